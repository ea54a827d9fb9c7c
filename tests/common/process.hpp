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

/// `program args...` started with stdout and stderr captured to files; wait() collects them.
/// Lets a test run programs side by side. Each is bounded by its own --duration.
class started_program {
 public:
  started_program(const std::string& program, const std::vector<std::string>& args) {
    static std::atomic<int> counter{0};
    const int id = ++counter;
    out_path_ = temp_path("out" + std::to_string(id));
    err_path_ = temp_path("err" + std::to_string(id));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> all{program};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, program.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  started_program(const started_program&) = delete;
  started_program& operator=(const started_program&) = delete;
  ~started_program() { wait(); }  // reaps it if a failed REQUIRE left it running

  /// The program's process id while it runs (-1 after wait()).
  pid_t pid() const noexcept { return pid_; }

  /// Waits for the program to exit (once; later calls return the same).
  run_output wait() {
    if (pid_ > 0) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      result_.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      result_.out = slurp(out_path_);
      result_.err = slurp(err_path_);
    }
    return result_;
  }

 private:
  pid_t pid_ = -1;
  std::string out_path_, err_path_;
  run_output result_;
};

/// Runs `program args...` with stdout and stderr captured; waits for it (it is bounded by its
/// own --duration).
inline run_output run_program(const std::string& program, const std::vector<std::string>& args) {
  return started_program(program, args).wait();
}

/// True if python3 parses the file as JSON and `check` (a Python expression over `d`) holds.
inline bool python_json_check(const std::string& path, const std::string& check) {
  auto r = run_program("/usr/bin/python3",
                       {"-c", "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if (" + check + ") else 1)",
                        path});
  return r.exit_code == 0;
}

}  // namespace simul::test
