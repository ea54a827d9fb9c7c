// Test helpers shared by the test binaries: run a program to completion with its output
// captured, temporary paths, and checks of a JSON file with python3 (every test machine has it).
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace simul::test {

/// What a run of a program produced.
struct run_output {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A fresh temporary directory's file path (the directory outlives the test; it is tiny).
inline std::string temp_path(const std::string& name) {
  static std::string dir = [] {
    char tmpl[] = "/tmp/simul-load-test.XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    return std::string(d ? d : "/tmp");
  }();
  return dir + "/" + name;
}

/// Runs `program args...` with stdout and stderr captured; waits for it (it is bounded by its
/// own --duration).
inline run_output run_program(const std::string& program, const std::vector<std::string>& args) {
  static std::atomic<int> counter{0};
  const int id = ++counter;
  const std::string out_path = temp_path("out" + std::to_string(id));
  const std::string err_path = temp_path("err" + std::to_string(id));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> all{program};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  run_output r;
  if (posix_spawn(&pid, program.c_str(), &fa, nullptr, argv.data(), environ) == 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  posix_spawn_file_actions_destroy(&fa);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

/// True if python3 parses the file as JSON and `check` (a Python expression over `d`) holds.
inline bool python_json_check(const std::string& path, const std::string& check) {
  auto r = run_program("/usr/bin/python3",
                       {"-c", "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if (" + check + ") else 1)",
                        path});
  return r.exit_code == 0;
}

}  // namespace simul::test
