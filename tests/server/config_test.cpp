// Tests for the server configuration: YAML loading, validation, to_yaml, the command line and
// the target of --probe.
#include "server/common/config.hpp"

#include <doctest/doctest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "server/common/chat_policy.hpp"
#include "server/common/probe.hpp"
#include "server/common/reload.hpp"

namespace fs = std::filesystem;
using namespace simul::server;

namespace {

const fs::path source_dir = SIMUL_SOURCE_DIR;

// A fresh directory under /tmp, removed with everything in it at the end of the test.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "simul-config-test-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  std::string write(const std::string& name, const std::string& text) const {
    fs::path p = path / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
};

// The message of the config_error that loading `yaml` throws; "" if it loads.
std::string load_error(const std::string& yaml) {
  try {
    load_config_text(yaml, "t.yaml");
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

std::string validate_error(const config& cfg) {
  try {
    validate(cfg);
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

// Runs parse_command_line on the given arguments, capturing what it prints.
struct cli_run {
  command_line result;
  std::string out, err;
};

cli_run run_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "simul-server");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::ostringstream out, err;
  cli_run r;
  r.result = parse_command_line(static_cast<int>(args.size()), argv.data(), out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// Dotted names of every leaf in a YAML map.
void leaf_keys(const YAML::Node& map, const std::string& prefix, std::set<std::string>& out) {
  for (const auto& kv : map) {
    const YAML::Node value = kv.second;
    std::string key = prefix + kv.first.Scalar();
    if (value.IsMap()) {
      leaf_keys(value, key + ".", out);
    } else {
      out.insert(key);
    }
  }
}

}  // namespace

TEST_CASE("config: the built-in defaults equal config/server.yaml") {
  config loaded = load_config_file((source_dir / "config/server.yaml").string());
  CHECK(to_yaml(loaded) == to_yaml(config{}));
}

TEST_CASE("config: config/server.yaml sets every key, each under a comment") {
  std::set<std::string> in_file, printed;
  leaf_keys(YAML::LoadFile((source_dir / "config/server.yaml").string()), "", in_file);
  leaf_keys(YAML::Load(to_yaml(config{})), "", printed);
  CHECK(in_file == printed);

  std::ifstream in(source_dir / "config/server.yaml");
  std::string line, previous;
  while (std::getline(in, line)) {
    bool is_key = !line.empty() && line.find(':') != std::string::npos &&
                  line.find_first_not_of(' ') != std::string::npos &&
                  line[line.find_first_not_of(' ')] != '#' && line.back() != ':';
    if (is_key) {
      INFO(line);
      CHECK(previous.find_first_not_of(' ') != std::string::npos);
      CHECK(previous[previous.find_first_not_of(' ')] == '#');
    }
    previous = line;
  }
}

TEST_CASE("config: config/docker.yaml is the defaults bound to 0.0.0.0") {
  config expected;
  expected.bind = "0.0.0.0";
  config loaded = load_config_file((source_dir / "config/docker.yaml").string());
  CHECK(to_yaml(loaded) == to_yaml(expected));
}

TEST_CASE("config: an empty file or one with only comments means the defaults") {
  CHECK(to_yaml(load_config_text("", "t.yaml")) == to_yaml(config{}));
  CHECK(to_yaml(load_config_text("# nothing here\n", "t.yaml")) == to_yaml(config{}));
  CHECK(to_yaml(load_config_text("limits:\n", "t.yaml")) == to_yaml(config{}));
}

TEST_CASE("config: values in the file override the defaults and keep the rest") {
  config c = load_config_text(
      "model: threaded\nchat:\n  port: 7000\n  motd: \"hello\"\nlimits:\n"
      "  flood_lines_per_second: 2.5\n  max_connections_per_ip: 4\n",
      "t.yaml");
  CHECK(c.model == model_kind::threaded);
  CHECK(c.chat.port == 7000);
  CHECK(c.chat_service.motd == "hello");
  CHECK(c.limits.flood_lines_per_second == 2.5);
  CHECK(c.limits.max_connections_per_ip == 4);
  CHECK(c.echo.port == 7007);
  CHECK(c.limits.max_line_bytes == 512);
}

TEST_CASE("config: an unknown key is an error naming the key and its line:column") {
  SUBCASE("at the top level") {
    CHECK(load_error("model: async\nbnid: 127.0.0.1\n") ==
          "t.yaml:2:1: bnid: unknown key (did you mean bind?)");
  }
  SUBCASE("inside a section") {
    CHECK(load_error("limits:\n  max_connections: 5\n  max_lines: 100\n") ==
          "t.yaml:3:3: limits.max_lines: unknown key (did you mean max_line_bytes?)");
  }
  SUBCASE("with nothing like it") {
    CHECK(load_error("chat:\n  colour: blue\n") == "t.yaml:2:3: chat.colour: unknown key");
  }
  SUBCASE("below a leaf") {
    CHECK(load_error("echo:\n  port:\n    number: 5\n") ==
          "t.yaml:2:3: echo.port: expected an integer, got a map");
  }
}

TEST_CASE("config: a value of the wrong type is an error naming the key") {
  CHECK(load_error("echo:\n  port: \"7007\"\n") ==
        "t.yaml:2:3: echo.port: expected an integer, got a string \"7007\"");
  CHECK(load_error("echo:\n  port: seven\n") ==
        "t.yaml:2:3: echo.port: expected an integer, got \"seven\"");
  CHECK(load_error("echo:\n  port: 7.5\n") ==
        "t.yaml:2:3: echo.port: expected an integer, got \"7.5\"");
  CHECK(load_error("echo:\n  port:\n") ==
        "t.yaml:2:3: echo.port: expected an integer, got nothing");
  CHECK(load_error("echo:\n  enabled: [true]\n") ==
        "t.yaml:2:3: echo.enabled: expected true or false, got a list");
  CHECK(load_error("echo:\n  enabled: maybe\n") ==
        "t.yaml:2:3: echo.enabled: expected true or false, got \"maybe\"");
  CHECK(load_error("chat:\n  server_name: {a: 1}\n") ==
        "t.yaml:2:3: chat.server_name: expected a string, got a map");
  CHECK(load_error("limits: 5\n") == "t.yaml:1:1: limits: expected a map of settings, got \"5\"");
  CHECK(load_error("limits:\n  flood_lines_per_second: fast\n") ==
        "t.yaml:2:3: limits.flood_lines_per_second: expected a number, got \"fast\"");
  CHECK(load_error("- model\n") == "t.yaml:1:1: expected a map of settings, got a list");
}

TEST_CASE("config: an out-of-range value is an error naming the key and the range") {
  CHECK(load_error("limits:\n  max_line_bytes: 10\n") ==
        "t.yaml:2:3: limits.max_line_bytes: must be between 64 and 65536 (got 10)");
  CHECK(load_error("limits:\n  max_connections: -1\n") ==
        "t.yaml:2:3: limits.max_connections: must be between 1 and 1000000 (got -1)");
  CHECK(load_error("chat:\n  port: 70000\n") ==
        "t.yaml:2:3: chat.port: must be between 0 and 65535 (got 70000)");
  CHECK(load_error("chat:\n  port: 99999999999999999999999\n") ==
        "t.yaml:2:3: chat.port: must be between 0 and 65535 (got 99999999999999999999999)");
  CHECK(load_error("limits:\n  flood_lines_per_second: 0\n") ==
        "t.yaml:2:3: limits.flood_lines_per_second: must be greater than 0 and at most 1000000 "
        "(got 0)");
  CHECK(load_error("log:\n  level: loud\n") ==
        "t.yaml:2:3: log.level: must be one of trace, debug, info, warn, error, critical, off (got "
        "\"loud\")");
  CHECK(load_error("log:\n  format: xml\n") ==
        "t.yaml:2:3: log.format: must be one of text, json (got \"xml\")");
  CHECK(load_error("model: forked\n") ==
        "t.yaml:1:1: model: must be async or threaded (got \"forked\")");
  CHECK(load_error("bind: localhost\n") ==
        "t.yaml:1:1: bind: must be an IPv4 or IPv6 address (got \"localhost\")");
  CHECK(load_error("chat:\n  server_name: a b\n") ==
        "t.yaml:2:3: chat.server_name: must be 1 to 63 letters, digits, '.', '-' or '_' (got \"a "
        "b\")");
  CHECK(load_error("bind: \"::\"\n").empty());
}

TEST_CASE("config: chat.operators takes crypt(3) hashes and refuses plain passwords") {
  const std::string hash =
      "$6$simulsalt$rUwkpYCMMkT8UZEaRYSwvNpCnoU.qctdTpaOrPuE8fpVGX2GoQMrkFmL6BhQbiblEu3JF/xguKxCWysdA3zFH1";
  auto c = load_config_text("chat:\n  operators: \"root " + hash + ", lan " + hash + " *!*@10.*\"\n", "t.yaml");
  CHECK(c.chat_service.operators == "root " + hash + ", lan " + hash + " *!*@10.*");
  CHECK(make_hub_config(c).operators.size() == 2);
  CHECK(load_error("chat:\n  operators: root secret\n") ==
        "t.yaml:2:3: chat.operators: operator root: the password must be a crypt(3) hash such as $6$... or "
        "$y$... (make one with `openssl passwd -6`), not a password");
}

TEST_CASE("config: durations are whole seconds, or a whole number with ms, s or m") {
  using std::chrono::milliseconds;
  config c = load_config_text(
      "timeouts:\n  registration_seconds: 250ms\n  idle_seconds: 2s\n  ping_interval_seconds: 1m\n"
      "  ping_timeout_seconds: 45\nlimits:\n  sendq_soft_seconds: 1500ms\nshutdown:\n"
      "  drain_seconds: 0\nlog:\n  stats_interval_seconds: 2m\n",
      "t.yaml");
  CHECK(c.timeouts.registration == milliseconds(250));
  CHECK(c.timeouts.idle == milliseconds(2000));
  CHECK(c.timeouts.ping_interval == milliseconds(60'000));
  CHECK(c.timeouts.ping_timeout == milliseconds(45'000));
  CHECK(c.limits.sendq_soft_duration == milliseconds(1500));
  CHECK(c.drain_time == milliseconds(0));
  CHECK(c.log.stats_interval == milliseconds(120'000));
  SUBCASE("printed as whole seconds when they are, else in ms, and loaded back the same") {
    std::string text = to_yaml(c);
    CHECK(text.find("  registration_seconds: 250ms\n") != std::string::npos);
    CHECK(text.find("  idle_seconds: 2\n") != std::string::npos);
    CHECK(text.find("  ping_interval_seconds: 60\n") != std::string::npos);
    CHECK(text.find("  sendq_soft_seconds: 1500ms\n") != std::string::npos);
    CHECK(text.find("  drain_seconds: 0\n") != std::string::npos);
    CHECK(to_yaml(load_config_text(text, "to_yaml")) == text);
  }
  SUBCASE("0ms and 0s are 0, the stats line's off") {
    CHECK(load_config_text("log:\n  stats_interval_seconds: 0ms\n", "t.yaml").log.stats_interval ==
          milliseconds(0));
    CHECK(load_config_text("shutdown:\n  drain_seconds: 0s\n", "t.yaml").drain_time == milliseconds(0));
  }
}

TEST_CASE("config: a malformed or out-of-range duration is an error naming the key and the range") {
  const std::string expected = "expected seconds or a duration (250ms, 2s, 1m), got ";
  CHECK(load_error("timeouts:\n  idle_seconds: 1.5s\n") ==
        "t.yaml:2:3: timeouts.idle_seconds: " + expected + "\"1.5s\"");
  CHECK(load_error("timeouts:\n  idle_seconds: 2 s\n") ==
        "t.yaml:2:3: timeouts.idle_seconds: " + expected + "\"2 s\"");
  CHECK(load_error("timeouts:\n  idle_seconds: 5h\n") ==
        "t.yaml:2:3: timeouts.idle_seconds: " + expected + "\"5h\"");
  CHECK(load_error("timeouts:\n  idle_seconds: ms\n") ==
        "t.yaml:2:3: timeouts.idle_seconds: " + expected + "\"ms\"");
  CHECK(load_error("timeouts:\n  idle_seconds: \"250ms\"\n") ==
        "t.yaml:2:3: timeouts.idle_seconds: " + expected + "a string \"250ms\"");
  CHECK(load_error("timeouts:\n  idle_seconds: [1]\n") ==
        "t.yaml:2:3: timeouts.idle_seconds: " + expected + "a list");
  CHECK(load_error("timeouts:\n  idle_seconds:\n") ==
        "t.yaml:2:3: timeouts.idle_seconds: " + expected + "nothing");
  CHECK(load_error("timeouts:\n  ping_timeout_seconds: 50ms\n") ==
        "t.yaml:2:3: timeouts.ping_timeout_seconds: must be between 100ms and 86400s (got 50ms)");
  CHECK(load_error("timeouts:\n  registration_seconds: 0\n") ==
        "t.yaml:2:3: timeouts.registration_seconds: must be between 100ms and 86400s (got 0)");
  CHECK(load_error("timeouts:\n  idle_seconds: 10081m\n") ==
        "t.yaml:2:3: timeouts.idle_seconds: must be between 100ms and 604800s (got 10081m)");
  CHECK(load_error("limits:\n  sendq_soft_seconds: -1s\n") ==
        "t.yaml:2:3: limits.sendq_soft_seconds: must be between 100ms and 86400s (got -1s)");
  CHECK(load_error("shutdown:\n  drain_seconds: 99999999999999999999m\n") ==
        "t.yaml:2:3: shutdown.drain_seconds: must be between 0s and 3600s (got 99999999999999999999m)");
  CHECK(load_error("log:\n  stats_interval_seconds: 500ms\n") ==
        "t.yaml:2:3: log.stats_interval_seconds: must be 0 (off) or between 1s and 86400s (got 500ms)");
  SUBCASE("values set in code are checked too") {
    config c;
    c.timeouts.ping_interval = std::chrono::milliseconds(99);
    CHECK(validate_error(c) ==
          "timeouts.ping_interval_seconds: must be between 100ms and 86400s (got 99ms)");
    c = config{};
    c.drain_time = std::chrono::hours(2);
    CHECK(validate_error(c) == "shutdown.drain_seconds: must be between 0s and 3600s (got 7200s)");
  }
}

TEST_CASE("config: a YAML syntax error names the file, line and column") {
  std::string e = load_error("limits:\n  max_line_bytes: [512\n");
  CHECK(e.rfind("t.yaml:3:1: invalid YAML: ", 0) == 0);
  CHECK(e.find('\n') == std::string::npos);
  CHECK(load_error("a: 1\n b: 2\n").rfind("t.yaml:", 0) == 0);
}

TEST_CASE("config: a duplicate key is an error naming both lines") {
  CHECK(load_error("echo:\n  port: 1\n  port: 2\n") ==
        "t.yaml:3:3: echo.port: duplicate key (first at line 2)");
  CHECK(load_error("model: async\nmodel: threaded\n") ==
        "t.yaml:2:1: model: duplicate key (first at line 1)");
}

TEST_CASE("config: an error message is one printable line whatever bytes the file holds") {
  // Found by tests/fuzz/config_fuzz.cpp: keys, and yaml-cpp's own messages, were echoed raw.
  SUBCASE("a key holding a newline or control bytes is shown escaped") {
    CHECK(load_error("limits:\n  \"max\\nline\": 1\n") ==
          "t.yaml:2:3: limits.max\\nline: unknown key");
    CHECK(load_error("\"\\x01\\t\\e\\x7f\": 1\n") == "t.yaml:1:1: \\x01\\t\\x1B\\x7F: unknown key");
    CHECK(load_error("\"\\u0085\": 1\n") == "t.yaml:1:1: \\u0085: unknown key");  // C1 NEL
  }
  SUBCASE("yaml-cpp's message holding a raw control byte is escaped") {
    const std::string e = load_error("chat:\n  motd: \"a\\\x01" "b\"\n");
    CHECK(e == "t.yaml:2:13: invalid YAML: unknown escape character: \\x01");
  }
  SUBCASE("a long key or number is cut short") {
    const std::string key(1000, 'k');  // YAML's limit for a plain key is 1024
    CHECK(load_error(key + ": 1\n") == "t.yaml:1:1: " + std::string(64, 'k') + "...: unknown key");
    CHECK(load_error("chat:\n  port: " + std::string(300, '9') + "\n") ==
          "t.yaml:2:3: chat.port: must be between 0 and 65535 (got " + std::string(40, '9') + "...)");
  }
}

TEST_CASE("config: a line limit too small for the nick and room lengths is rejected") {
  // Found by tests/fuzz/chat_session_fuzz.cpp: replies cut the nick they name (001 told a
  // client a nick that was not its own) when max_line_bytes left no room for long names.
  CHECK(load_error("limits:\n  max_line_bytes: 64\n") ==
        "t.yaml:2:3: limits.max_line_bytes: must be at least 234 with chat.nick_len 30 and "
        "chat.channel_len 50 (got 64; a WHO or ISUPPORT reply would cut a nick or room name)");
  CHECK(load_error("chat:\n  nick_len: 255\n") ==
        "t.yaml:2:3: limits.max_line_bytes: must be at least 684 with chat.nick_len 255 and "
        "chat.channel_len 50 (got 512; a WHO or ISUPPORT reply would cut a nick or room name)");
  CHECK(load_error("chat:\n  nick_len: 255\nlimits:\n  max_line_bytes: 684\n").empty());
  CHECK(load_error("chat:\n  enabled: false\nlimits:\n  max_line_bytes: 64\n").empty());
}

TEST_CASE("config: a second YAML document is rejected, pointing at its start") {
  CHECK(load_error("model: async\n---\nmodel: threaded\n") ==
        "t.yaml:2:1: expected one YAML document, found a second");
}

TEST_CASE("config: input on which yaml-cpp's LoadAll never returns is an error, not a hang") {
  // A lone "," makes yaml-cpp 0.7 produce empty documents forever (found by fuzz/config).
  CHECK(load_error(",") == "t.yaml:1:1: expected one YAML document, found a second");
  CHECK(load_error("model: async\n,\n").find("t.yaml:") == 0);
}

TEST_CASE("config: a soft send queue limit above the hard limit is rejected") {
  CHECK(
      load_error("limits:\n  sendq_hard_bytes: 4096\n  sendq_soft_bytes: 8192\n") ==
      "t.yaml:3:3: limits.sendq_soft_bytes: must not exceed limits.sendq_hard_bytes (8192 > 4096)");
  SUBCASE("blaming the hard limit's line when only it was set") {
    CHECK(load_error("limits:\n  sendq_hard_bytes: 4096\n") ==
          "t.yaml:2:3: limits.sendq_soft_bytes: must not exceed limits.sendq_hard_bytes (262144 > "
          "4096)");
  }
  SUBCASE("without a file") {
    config c;
    c.limits.sendq_soft_bytes = c.limits.sendq_hard_bytes + 1;
    CHECK(validate_error(c) ==
          "limits.sendq_soft_bytes: must not exceed limits.sendq_hard_bytes (1048577 > 1048576)");
  }
}

TEST_CASE("config: cross-field limits are checked") {
  config c;
  CHECK(validate_error(c).empty());
  SUBCASE("a line must fit in the input backlog") {
    c.limits.max_line_bytes = 16384;
    CHECK(validate_error(c) ==
          "limits.flood_max_backlog_bytes: must be at least limits.max_line_bytes (8192 < 16384)");
  }
  SUBCASE("two listeners cannot share a port") {
    c.metrics.port = c.chat.port;
    CHECK(validate_error(c) == "metrics.port: same port as chat.port (6667)");
    c.metrics.enabled = false;
    CHECK(validate_error(c).empty());
  }
  SUBCASE("port 0 may be used by every listener") {
    c.echo.port = c.chat.port = c.metrics.port = 0;
    CHECK(validate_error(c).empty());
  }
  SUBCASE("at least one listener is enabled") {
    c.echo.enabled = c.chat.enabled = c.metrics.enabled = false;
    CHECK(validate_error(c) ==
          "echo.enabled: at least one of echo, chat and metrics must be enabled");
  }
  SUBCASE("per-key ranges apply to values set in code") {
    c.threaded_stack_kib = 8;
    CHECK(validate_error(c) == "threaded.stack_kib: must be between 64 and 65536 (got 8)");
  }
}

TEST_CASE("config: to_yaml output loads back to the same config") {
  config c;
  c.model = model_kind::threaded;
  c.bind = "::1";
  c.echo = {false, 0};
  c.chat.port = 6697;
  c.chat_service.server_name = "irc.example-1.org";
  c.chat_service.motd = "Welcome \"friend\"\\\nline two\ttabbed\r\x01 caf\xc3\xa9";
  c.limits.flood_lines_per_second = 0.1;
  c.limits.sendq_hard_bytes = 4 * 1024 * 1024;
  c.timeouts.idle = std::chrono::seconds(1);
  c.timeouts.ping_timeout = std::chrono::milliseconds(250);
  c.drain_time = std::chrono::milliseconds(0);
  c.log = {"debug", "json", std::chrono::milliseconds(0)};
  REQUIRE(validate_error(c).empty());

  std::string text = to_yaml(c);
  config back = load_config_text(text, "to_yaml");
  CHECK(to_yaml(back) == text);
  CHECK(back.chat_service.motd == c.chat_service.motd);
  CHECK(back.limits.flood_lines_per_second == c.limits.flood_lines_per_second);
  CHECK(back.model == model_kind::threaded);
  CHECK_FALSE(back.echo.enabled);
  CHECK(to_yaml(load_config_text(to_yaml(config{}), "defaults")) == to_yaml(config{}));
}

TEST_CASE("config: chat.motd_file is read relative to the config file's directory") {
  temp_dir dir;
  fs::create_directory(dir.path / "etc");
  dir.write("etc/motd.txt", "Hello\nthere\n");
  std::string path = dir.write("etc/server.yaml", "chat:\n  motd_file: motd.txt\n");
  config c = load_config_file(path);
  CHECK(c.chat_service.motd == "Hello\nthere\n");
  CHECK(c.chat_service.motd_file == (dir.path / "etc/motd.txt").string());

  SUBCASE("and to_yaml names the file, which loads back") {
    config back = load_config_text(to_yaml(c), "to_yaml");
    CHECK(back.chat_service.motd == "Hello\nthere\n");
    CHECK(to_yaml(back) == to_yaml(c));
  }
  SUBCASE("a missing file is an error naming the key") {
    std::string bad = dir.write("etc/bad.yaml", "chat:\n  motd_file: nope.txt\n");
    std::string expected = bad + ":2:3: chat.motd_file: cannot read \"";
    try {
      load_config_file(bad);
      FAIL("loaded a config whose motd_file is missing");
    } catch (const config_error& e) {
      std::string what = e.what();
      CHECK(what.rfind(expected, 0) == 0);
      CHECK(what.find("No such file or directory") != std::string::npos);
    }
  }
  SUBCASE("motd and motd_file together are an error") {
    std::string both = dir.write("etc/both.yaml", "chat:\n  motd: hi\n  motd_file: motd.txt\n");
    CHECK_THROWS_WITH_AS(
        load_config_file(both),
        (both + ":3:3: chat.motd_file: set chat.motd or chat.motd_file, not both").c_str(),
        config_error);
  }
}

TEST_CASE("config: a missing config file is an error naming the file") {
  CHECK_THROWS_WITH_AS(
      load_config_file("/nonexistent/simul.yaml"),
      "/nonexistent/simul.yaml: cannot read config file: No such file or directory", config_error);
}

TEST_CASE("config: command-line flags override the config file") {
  temp_dir dir;
  std::string path = dir.write(
      "s.yaml", "model: async\nbind: 0.0.0.0\nchat:\n  port: 7000\nlog:\n  level: warn\n");
  cli_run r = run_cli({"--config", path, "--model", "threaded", "--chat-port", "0",
                       "--metrics-port", "9200", "--no-echo", "--log-format", "json"});
  REQUIRE_FALSE(r.result.exit_now);
  const config& c = r.result.cfg;
  CHECK(r.result.config_path == path);
  CHECK(c.model == model_kind::threaded);
  CHECK(c.bind == "0.0.0.0");
  CHECK(c.chat.port == 0);
  CHECK(c.metrics.port == 9200);
  CHECK_FALSE(c.echo.enabled);
  CHECK(c.chat.enabled);
  CHECK(c.log.level == "warn");
  CHECK(c.log.format == "json");
}

TEST_CASE("config: without --config the command line starts from the defaults") {
  cli_run r = run_cli({"--check-config", "--probe", "127.0.0.1:9107"});
  REQUIRE_FALSE(r.result.exit_now);
  CHECK(r.result.check_config);
  CHECK(r.result.probe == "127.0.0.1:9107");
  CHECK(to_yaml(r.result.cfg) == to_yaml(config{}));
}

TEST_CASE("config: a flag can fix what the file alone gets wrong") {
  temp_dir dir;
  std::string path = dir.write("s.yaml", "chat:\n  port: 7007\n");  // clashes with echo.port
  CHECK_THROWS_WITH_AS(run_cli({"--config", path}),
                       (path + ":2:3: chat.port: same port as echo.port (7007)").c_str(),
                       config_error);
  CHECK(run_cli({"--config", path, "--echo-port", "7008"}).result.cfg.chat.port == 7007);
  CHECK_THROWS_WITH_AS(run_cli({"--echo-port", "6667"}),
                       "option --echo-port: chat.port: same port as echo.port (6667)",
                       config_error);
  CHECK_THROWS_WITH_AS(run_cli({"--bind", "example.org"}),
                       "option --bind: bind: must be an IPv4 or IPv6 address (got \"example.org\")",
                       config_error);
}

TEST_CASE("config: --probe alone targets the metrics listener of the effective config") {
  CHECK(run_cli({"--probe"}).result.probe == "127.0.0.1:9107");
  // The image's HEALTHCHECK: the wildcard bind of config/docker.yaml is probed on loopback.
  CHECK(run_cli({"--config", (source_dir / "config/docker.yaml").string(), "--probe"})
            .result.probe == "127.0.0.1:9107");
  temp_dir dir;
  std::string path = dir.write("s.yaml", "bind: 0.0.0.0\nmetrics:\n  port: 9300\n");
  CHECK(run_cli({"--config", path, "--probe"}).result.probe == "127.0.0.1:9300");
  CHECK(run_cli({"--probe", "--config", path, "--metrics-port", "9400"}).result.probe ==
        "127.0.0.1:9400");
  CHECK(run_cli({"--bind", "::", "--probe"}).result.probe == "[::1]:9107");
  CHECK(run_cli({"--bind", "10.1.2.3", "--probe"}).result.probe == "10.1.2.3:9107");
  CHECK(run_cli({"--bind", "fd00::5", "--probe"}).result.probe == "[fd00::5]:9107");
}

TEST_CASE("config: --probe alone with no metrics port to probe is an error naming the key") {
  temp_dir dir;
  std::string path = dir.write("s.yaml", "echo:\n  port: 7007\nmetrics:\n  enabled: false\n");
  CHECK_THROWS_WITH_AS(run_cli({"--config", path, "--probe"}),
                       (path +
                        ":4:3: metrics.enabled: --probe needs the metrics listener (GET /healthz), "
                        "and this configuration disables it")
                           .c_str(),
                       config_error);
  CHECK_THROWS_WITH_AS(run_cli({"--no-metrics", "--probe"}),
                       "option --no-metrics: metrics.enabled: --probe needs the metrics listener "
                       "(GET /healthz), and this configuration disables it",
                       config_error);
  CHECK_THROWS_WITH_AS(run_cli({"--metrics-port", "0", "--probe"}),
                       "option --metrics-port: metrics.port: --probe needs a fixed port, and 0 "
                       "means any free port; set one, or give --probe HOST:PORT",
                       config_error);
  // A target given on the command line needs nothing from the config.
  CHECK(run_cli({"--no-metrics", "--probe", "127.0.0.1:9107"}).result.probe == "127.0.0.1:9107");
  CHECK(run_cli({"--config", path, "--probe", "[::1]:9200"}).result.probe == "[::1]:9200");
}

TEST_CASE("config: --probe HOST:PORT takes a bracketed IPv6 address") {
  std::string error;
  auto hp = parse_host_port("[::1]:9200", error);
  REQUIRE(hp);
  CHECK(hp->host == "::1");
  CHECK(hp->port == 9200);
  CHECK(error.empty());
  CHECK_FALSE(parse_host_port("[::1]", error));
  CHECK(error == "port must be between 1 and 65535, got \"1]\"");
  CHECK_FALSE(parse_host_port(":9107", error));
  CHECK(error == "expected HOST:PORT, got \":9107\"");
}

TEST_CASE("config: a bad flag exits with code 2 and a message on stderr") {
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"--bogus"},
                                             {"--chat-port", "70000"},
                                             {"--chat-port", "x"},
                                             {"--model", "forked"},
                                             {"--log-level", "loud"},
                                             {"--log-format", "xml"},
                                             {"--no-chat", "--chat-port", "1"},
                                             {"--probe", "localhost"},
                                             {"--probe", "localhost:0"},
                                             {"--config"},
                                             {"extra"}}) {
    INFO(args[0]);
    cli_run r = run_cli(args);
    CHECK(r.result.exit_now);
    CHECK(r.result.exit_code == 2);
    CHECK_FALSE(r.err.empty());
    CHECK(r.out.empty());
  }
}

TEST_CASE("config: --version and --help print to stdout and exit 0") {
  cli_run v = run_cli({"--version"});
  CHECK(v.result.exit_now);
  CHECK(v.result.exit_code == 0);
  CHECK(v.out == "simul-server " SIMUL_VERSION " (" SIMUL_GIT_SHA ")\n");

  cli_run h = run_cli({"--help"});
  CHECK(h.result.exit_now);
  CHECK(h.result.exit_code == 0);
  CHECK(h.err.empty());
  for (const char* flag :
       {"--config", "--model", "--bind", "--echo-port", "--chat-port", "--metrics-port",
        "--no-echo", "--no-chat", "--no-metrics", "--log-level", "--log-format", "--check-config",
        "--version", "--probe"}) {
    INFO(flag);
    CHECK(h.out.find(flag) != std::string::npos);
  }
}

TEST_CASE("config: ports on the command line are base 10; a leading zero is not octal, hex is refused") {
  cli_run r = run_cli({"--echo-port", "07007", "--chat-port", "06667", "--metrics-port", "0"});
  REQUIRE_FALSE(r.result.exit_now);
  CHECK(r.result.cfg.echo.port == 7007);
  CHECK(r.result.cfg.chat.port == 6667);
  CHECK(r.result.cfg.metrics.port == 0);
  for (const char* bad : {"0x1b5f", "65536", "-1", "7007.0", "", "123456"}) {
    CAPTURE(bad);
    cli_run e = run_cli({"--echo-port", bad});
    CHECK(e.result.exit_now);
    CHECK(e.result.exit_code == 2);
    CHECK(e.err.find("--echo-port") != std::string::npos);
    CHECK(e.err.find("base 10") != std::string::npos);
  }
}

TEST_CASE("config: the cluster keys are checked, and cluster.redis needs the async model") {
  CHECK(load_error("cluster:\n  redis: \"127.0.0.1:6390\"\n  lease_seconds: 250ms\n  node: web1:42\n").empty());
  CHECK(load_error("cluster:\n  redis: nohost\n").starts_with("t.yaml:2:3: cluster.redis: must be empty (standalone) or HOST:PORT"));
  CHECK(load_error("cluster:\n  lease_seconds: 50ms\n") ==
        "t.yaml:2:3: cluster.lease_seconds: must be between 100ms and 3600s (got 50ms)");
  CHECK(load_error("cluster:\n  node: \"a b\"\n").starts_with("t.yaml:2:3: cluster.node: must be empty (hostname:pid) or up to 63"));
  CHECK(load_error("cluster:\n  max_queue_bytes: 100\n").starts_with("t.yaml:2:3: cluster.max_queue_bytes: must be between 65536"));
  CHECK(load_error("model: threaded\ncluster:\n  redis: \"127.0.0.1:6390\"\n") ==
        "t.yaml:3:3: cluster.redis: a chat network is served by the async model only (model: threaded); use "
        "model: async, or leave cluster.redis empty");
  cli_run r = run_cli({"--redis", "127.0.0.1:6391"});
  REQUIRE_FALSE(r.result.exit_now);
  CHECK(r.result.cfg.cluster.redis == "127.0.0.1:6391");
  CHECK_THROWS_AS(run_cli({"--redis", "127.0.0.1:6391", "--model", "threaded"}), config_error);
}

TEST_CASE("config: workers is 1..256, from the file or --workers") {
  temp_dir dir;
  CHECK(run_cli({}).result.cfg.workers == 1);
  CHECK(run_cli({"--workers", "4", "--no-chat"}).result.cfg.workers == 4);
  std::string path = dir.write("s.yaml", "workers: 3\nchat:\n  enabled: false\n");
  CHECK(run_cli({"--config", path}).result.cfg.workers == 3);
  CHECK_THROWS_WITH_AS(run_cli({"--workers", "0"}), "option --workers: workers: must be between 1 and 256 (got 0)",
                       config_error);
  path = dir.write("t.yaml", "workers: 257\n");
  CHECK_THROWS_WITH_AS(run_cli({"--config", path}), (path + ":1:1: workers: must be between 1 and 256 (got 257)").c_str(),
                       config_error);
}

TEST_CASE("config: more than one worker needs the async model, naming workers and model") {
  CHECK_THROWS_WITH_AS(run_cli({"--workers", "2", "--no-chat", "--model", "threaded"}),
                       "option --workers: workers: worker processes run the async model only (got workers: 2 with "
                       "model: threaded); use model: async, or workers: 1",
                       config_error);
  temp_dir dir;
  // Blamed where workers was set; with workers from the file, at its line.
  std::string path = dir.write("s.yaml", "model: threaded\nworkers: 2\nchat:\n  enabled: false\n");
  CHECK_THROWS_WITH_AS(run_cli({"--config", path}),
                       (path + ":2:1: workers: worker processes run the async model only (got workers: 2 with "
                               "model: threaded); use model: async, or workers: 1")
                           .c_str(),
                       config_error);
  CHECK(run_cli({"--model", "threaded", "--workers", "1"}).result.cfg.workers == 1);
}

TEST_CASE("config: more than one worker with chat enabled needs cluster.redis, naming both keys") {
  CHECK_THROWS_WITH_AS(run_cli({"--workers", "3"}),
                       "option --workers: workers: with chat enabled and no cluster.redis, 3 workers would be 3 "
                       "separate chat networks; set cluster.redis (one network over Redis), or use workers: 1, or "
                       "chat.enabled: false (--no-chat)",
                       config_error);
  CHECK_FALSE(run_cli({"--workers", "3", "--no-chat"}).result.cfg.chat.enabled);
  CHECK(run_cli({"--workers", "3", "--redis", "127.0.0.1:6391"}).result.cfg.workers == 3);
}

TEST_CASE("config: timeouts.worker_scrape_seconds is 100ms..60s and applies on reload") {
  temp_dir dir;
  std::string path = dir.write("s.yaml", "timeouts:\n  worker_scrape_seconds: 250ms\n");
  CHECK(run_cli({"--config", path}).result.cfg.worker_scrape_timeout == std::chrono::milliseconds(250));
  path = dir.write("t.yaml", "timeouts:\n  worker_scrape_seconds: 61\n");
  CHECK_THROWS_WITH_AS(run_cli({"--config", path}),
                       (path + ":2:3: timeouts.worker_scrape_seconds: must be between 100ms and 60s (got 61)").c_str(),
                       config_error);
  CHECK(reloadable("timeouts.worker_scrape_seconds"));
  CHECK_FALSE(reloadable("workers"));
}

TEST_CASE("config: timeouts.worker_start_seconds is 100ms..3600s, 30 s by default, and applies on reload") {
  temp_dir dir;
  CHECK(run_cli({}).result.cfg.worker_start_timeout == std::chrono::seconds(30));
  std::string path = dir.write("s.yaml", "timeouts:\n  worker_start_seconds: 2s\n");
  CHECK(run_cli({"--config", path}).result.cfg.worker_start_timeout == std::chrono::seconds(2));
  path = dir.write("t.yaml", "timeouts:\n  worker_start_seconds: 50ms\n");
  CHECK_THROWS_WITH_AS(run_cli({"--config", path}),
                       (path + ":2:3: timeouts.worker_start_seconds: must be between 100ms and 3600s (got 50ms)").c_str(),
                       config_error);
  CHECK(reloadable("timeouts.worker_start_seconds"));
}
