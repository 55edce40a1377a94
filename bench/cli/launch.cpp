#include "launch.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "calor/error.hpp"

namespace calor::bench {

std::string self_path() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "calor";
  return std::string(buf, static_cast<std::size_t>(n));
}

int machine_cores() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::string shell_quote(const std::string& s) {
  std::string r = "'";
  for (char c : s)
    r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

int run_lines(const std::string& command, const std::function<void(const std::string&)>& line) {
  std::fflush(stdout);  // the child's output must not overtake ours
  const std::string cmd = command + " 2>&1";
  // Closed (and waited for) also when `line` throws.
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) throw Error("cannot run '" + command + "'");
  char buf[4096];
  std::string pending;
  while (std::fgets(buf, sizeof buf, pipe.get()) != nullptr) {
    pending += buf;
    if (pending.back() != '\n') continue;  // a line longer than buf: read on
    pending.pop_back();
    line(pending);
    pending.clear();
  }
  if (!pending.empty()) line(pending);
  const int status = pclose(pipe.release());
  if (status == -1) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

namespace {

// Splits "key=value key=value ..." into fields: a word "name=..." (name of letters, digits and
// '_') starts a field; any other word continues the value before it.
std::map<std::string, std::string> parse_fields(const std::string& s) {
  std::map<std::string, std::string> fields;
  std::string* value = nullptr;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ')
      ++i;
    const std::size_t end = std::min(s.find(' ', i), s.size());
    const std::string word = s.substr(i, end - i);
    i = end;
    if (word.empty()) continue;
    const std::size_t eq = word.find('=');
    const bool key =
        eq != std::string::npos && eq > 0 &&
        std::all_of(word.begin(), word.begin() + static_cast<std::ptrdiff_t>(eq),
                    [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
    if (key) {
      value = &fields[word.substr(0, eq)];
      *value = word.substr(eq + 1);
    } else if (value != nullptr) {
      *value += " " + word;
    }
  }
  return fields;
}

}  // namespace

const std::string& WorkerResult::text(const std::string& key) const {
  const auto it = fields.find(key);
  if (it == fields.end()) throw Error("the worker's RESULT line has no '" + key + "'");
  return it->second;
}

double WorkerResult::number(const std::string& key) const {
  const std::string& v = text(key);
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0')
    throw Error("the worker's RESULT field " + key + "=" + v + " is not a number");
  return x;
}

WorkerResult launch_worker(int ranks, const std::string& worker_args,
                           const std::string& mpiexec_options) {
  std::string cmd = "mpiexec --oversubscribe " + mpiexec_options;
  if (geteuid() == 0) cmd += " --allow-run-as-root";
  cmd += " -n " + std::to_string(ranks) + " " + shell_quote(self_path()) + " bench " + worker_args;
  std::string all;
  WorkerResult r;
  bool found = false;
  run_lines(cmd, [&](const std::string& line) {
    all += line + "\n";
    if (line.rfind("RESULT ", 0) == 0) {
      r.fields = parse_fields(line.substr(7));
      found = true;
    }
  });
  if (!found) throw Error("'" + cmd + "' gave no result:\n" + all);
  return r;
}

std::string source_dir() {
  const char* env = std::getenv("CALOR_SOURCE_DIR");
  return env != nullptr && *env != '\0' ? env : CALOR_SOURCE_DIR;
}

std::string project_python() {
  const char* env = std::getenv("CALOR_PYTHON");
  return env != nullptr && *env != '\0' ? env : source_dir() + "/.venv/bin/python";
}

}  // namespace calor::bench
