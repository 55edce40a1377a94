// `calor sweep FILE`: a parameter sweep for users who do not write Python (calor.ensemble is
// the distributed one). With --jobs 1 the members run one after another on this process, each
// with all its threads; with --jobs J, J at a time, each in a child process of its own (this
// program again, with the hidden --member), so that a member that crashes or is killed costs
// only its own row. A member that fails stays in its row and the others go on.

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "calor/config.hpp"
#include "calor/error.hpp"
#include "calor/machine.hpp"
#include "calor/run.hpp"
#include "commands.hpp"

extern char** environ;

namespace calor::app {

namespace {

struct Row {
  const SweepMember* member;
  Stats stats;
  std::int64_t steps = 0;
  double seconds = 0;
  std::string error;  // "" when the member ran to its end
};

Row run_member(const SweepMember& m, const SweepOptions& o, std::size_t index) {
  Row row{&m, {}, 0, 0, m.error};
  if (!row.error.empty()) return row;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    Config c = m.config;
    if (!c.run.output.empty() || !c.run.checkpoint.empty() || !c.run.png.empty())
      throw Error(
          "a sweep's members would all write the same files: drop output and "
          "checkpoint settings and give --output-dir, where each member writes its own");
    if (o.threads > 0) c.run.threads = o.threads;
    if (!o.output_dir.empty()) {
      char name[32];
      std::snprintf(name, sizeof name, "/member_%05zu.h5", index);
      c.run.output = o.output_dir + name;
    }
    RunOptions ro;
    ro.overwrite = true;  // a rerun of the sweep replaces its members' files
    Run run(c, Comm(), ro);
    (void)run.run();
    row.stats = run.stats();
    row.steps = run.step();
  } catch (const Error& e) {
    row.error = e.what();
  }
  row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return row;
}

std::string settings_text(const SweepMember& m) {
  std::string s;
  for (const auto& [k, v] : m.settings)
    s += (s.empty() ? "" : ", ") + k + "=" + v;
  return s;
}

// The table on stdout: one row per member, its settings, statistics, steps, time and status.
void print_table(const std::vector<Row>& rows) {
  std::printf("%-7s", "member");
  for (const auto& [k, v] : rows.front().member->settings)
    std::printf(" %-12s", k.c_str());
  std::printf(" %14s %14s %14s %8s %9s  %s\n", "heat", "max", "l2", "steps", "seconds", "status");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    std::printf("%-7zu", i);
    for (const auto& [k, v] : r.member->settings)
      std::printf(" %-12s", v.c_str());
    if (r.error.empty())
      std::printf(" %14.6g %14.6g %14.6g %8lld %9.3f  ok\n", r.stats.heat, r.stats.max, r.stats.l2,
                  static_cast<long long>(r.steps), r.seconds);
    else
      std::printf(" %14s %14s %14s %8s %9.3f  failed: %s\n", "-", "-", "-", "-", r.seconds,
                  r.error.c_str());
  }
}

std::string csv_field(const std::string& s) {
  std::string q = "\"";
  for (const char c : s)
    q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

void write_csv(const std::string& path, const std::vector<Row>& rows) {
  std::ostringstream out;
  out << "member";
  for (const auto& [k, v] : rows.front().member->settings)
    out << "," << csv_field(k);
  out << ",heat,min,max,l2,steps,seconds,status,error\n";
  out.precision(17);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    out << i;
    for (const auto& [k, v] : r.member->settings)
      out << "," << csv_field(v);
    out << "," << r.stats.heat << "," << r.stats.min << "," << r.stats.max << "," << r.stats.l2
        << "," << r.steps << "," << r.seconds << "," << (r.error.empty() ? "ok" : "failed") << ","
        << csv_field(r.error) << "\n";
  }
  std::ofstream f(path);
  f << out.str();
  f.close();
  if (!f) throw Error("cannot write the sweep's table to '" + path + "'");
}

// ---- one member per child process (--jobs > 1) ---------------------------------------------

// A child reports its member on one stdout line after this mark: "ok" and the statistics (all
// 17 digits, so the table is the in-process one bit for bit), or "failed" and the message.
constexpr const char* kRowMark = "calor-sweep-row ";

void print_row_line(const Row& r) {
  if (r.error.empty()) {
    std::printf("%sok %.17g %.17g %.17g %.17g %lld %.17g\n", kRowMark, r.stats.heat, r.stats.min,
                r.stats.max, r.stats.l2, static_cast<long long>(r.steps), r.seconds);
  } else {
    std::string message = r.error.substr(0, 8000);  // a pipe holds 64 KiB: never block on it
    std::replace(message.begin(), message.end(), '\n', ' ');
    std::printf("%sfailed %.17g %s\n", kRowMark, r.seconds, message.c_str());
  }
  std::fflush(stdout);
}

// Fills `row` from a child's output; false if it holds no row line.
bool parse_row_line(const std::string& out, Row& row) {
  const std::size_t at = out.rfind(kRowMark);
  if (at == std::string::npos) return false;
  std::istringstream in(out.substr(at + std::strlen(kRowMark)));
  std::string status;
  in >> status;
  // strtod, not >>: it reads the "nan" and "inf" that %.17g may print.
  const auto number = [&in](double& v) {
    std::string word;
    in >> word;
    char* end = nullptr;
    v = std::strtod(word.c_str(), &end);
    return !word.empty() && *end == 0;
  };
  if (status == "ok") {
    double steps = 0;
    const bool ok = number(row.stats.heat) && number(row.stats.min) && number(row.stats.max) &&
                    number(row.stats.l2) && number(steps) && number(row.seconds);
    row.steps = static_cast<std::int64_t>(steps);
    if (!ok) row = Row{row.member, {}, 0, 0, {}};
    return ok;
  }
  if (!number(row.seconds)) row.seconds = 0;
  std::getline(in >> std::ws, row.error);
  if (row.error.empty()) row.error = "failed without a message";
  return status == "failed";
}

struct Child {
  pid_t pid;
  std::size_t index;
  int fd;  // read end of the child's stdout
  std::chrono::steady_clock::time_point start;
};

// Starts this program on member `index` (--member), its stdout on a pipe.
Child spawn_member(const SweepOptions& o, std::size_t index, int threads) {
  std::vector<std::string> args{"calor",
                                "sweep",
                                o.file,
                                "--member",
                                std::to_string(index),
                                "--threads",
                                std::to_string(threads)};
  if (!o.output_dir.empty()) args.insert(args.end(), {"--output-dir", o.output_dir});
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0)  // the dup2 onto stdout clears it in the child
    throw Error(std::string("calor sweep: cannot make a pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw Error("calor sweep: cannot start a process for member " + std::to_string(index) + ": " +
                std::strerror(rc) + " (try --jobs 1)");
  }
  return {pid, index, fds[0], std::chrono::steady_clock::now()};
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fd);
  return out;
}

// The row of a child that has ended with `status`: its row line, else why it has none.
Row finish_child(const SweepMember& m, const Child& c, int status) {
  Row row{&m, {}, 0, 0, {}};
  if (parse_row_line(read_all(c.fd), row)) return row;
  row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - c.start).count();
  if (WIFSIGNALED(status))
    row.error = "its process died: signal " + std::to_string(WTERMSIG(status)) + " (" +
                strsignal(WTERMSIG(status)) + ")";
  else
    row.error = "its process exited with status " + std::to_string(WEXITSTATUS(status)) +
                " without a result";
  return row;
}

// Runs the members `o.jobs` at a time in child processes; `done(i)` after member i ends.
template <class Done>
std::vector<Row> run_in_processes(const std::vector<SweepMember>& members, const SweepOptions& o,
                                  Done done) {
  const int threads = o.threads > 0 ? o.threads : std::max(1, default_threads() / o.jobs);
  std::vector<Row> rows(members.size());
  std::map<pid_t, Child> running;
  std::size_t next = 0;
  while (next < members.size() || !running.empty()) {
    while (next < members.size() && static_cast<int>(running.size()) < o.jobs) {
      const std::size_t i = next++;
      if (!members[i].error.empty()) {  // refused before it could run: no process needed
        rows[i] = run_member(members[i], o, i);
        done(i, rows[i]);
        continue;
      }
      const Child c = spawn_member(o, i, threads);
      running.emplace(c.pid, c);
    }
    if (running.empty()) break;
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw Error(std::string("calor sweep: waiting for members: ") + std::strerror(errno));
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const std::size_t i = it->second.index;
    rows[i] = finish_child(members[i], it->second, status);
    running.erase(it);
    done(i, rows[i]);
  }
  return rows;
}

}  // namespace

CLI::App* add_sweep_command(CLI::App& app, SweepOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "sweep", "Run every member of a parameter sweep (a TOML file) and print their table");
  cmd->add_option("file", o.file,
                  "TOML: settings shared by every member, and a [sweep] table of lists whose "
                  "product makes the members")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--jobs,-j", o.jobs,
                  "Members at once, each in a process of its own (default 1: one after another "
                  "in this process)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--threads", o.threads,
                  "Threads per member (default: all cores, shared between the --jobs)");
  cmd->add_option("--output-dir", o.output_dir,
                  "Write each member's final field to DIR/member_NNNNN.h5");
  cmd->add_option("--csv", o.csv, "Also write the table as CSV to this file");
  cmd->add_flag("--no-progress", o.no_progress, "No line per member on stderr");
  cmd->add_option("--member", o.member)->group("");  // internal: a job's child process
  cmd->footer(
      "\nExample sweep.toml:\n  preset = \"stencil\"\n  steps = 200\n  [sweep]\n  n = [240, 480]\n"
      "  energy = [1.0, 2.0]          # 4 members: n x energy, the last key fastest\n"
      "`calor sweep sweep.toml --jobs 2` runs two members at a time. Python's calor.ensemble "
      "runs the same members on dask (a cluster too) or any executor.");
  return cmd;
}

int sweep_command(const SweepOptions& o) {
  std::ifstream in(o.file);
  if (!in) throw Error("cannot read sweep file '" + o.file + "'");
  std::stringstream text;
  text << in.rdbuf();
  const std::vector<SweepMember> members = load_sweep(text.str(), o.file);
  if (o.member >= 0) {  // a job's child: this member only, its row on stdout
    if (static_cast<std::size_t>(o.member) >= members.size())
      throw Error("--member " + std::to_string(o.member) + ": the sweep has " +
                  std::to_string(members.size()) + " members");
    print_row_line(run_member(members[static_cast<std::size_t>(o.member)], o,
                              static_cast<std::size_t>(o.member)));
    return 0;
  }
  int failed = 0;
  std::size_t finished = 0;
  const auto done = [&](std::size_t i, const Row& r) {
    failed += r.error.empty() ? 0 : 1;
    ++finished;
    if (!o.no_progress)
      std::fprintf(stderr, "calor sweep: %zu/%zu done, member %zu (%s): %s, %.2f s\n", finished,
                   members.size(), i, settings_text(members[i]).c_str(),
                   r.error.empty() ? "ok" : "failed", r.seconds);
  };
  std::vector<Row> rows;
  if (o.jobs > 1) {
    rows = run_in_processes(members, o, done);
  } else {
    for (std::size_t i = 0; i < members.size(); ++i) {
      rows.push_back(run_member(members[i], o, i));
      done(i, rows.back());
    }
  }
  print_table(rows);
  if (!o.csv.empty()) write_csv(o.csv, rows);
  if (failed > 0)
    std::fprintf(stderr, "calor sweep: %d of %zu members failed (see their rows)\n", failed,
                 members.size());
  return failed > 0 ? kExitFailed : 0;
}

}  // namespace calor::app
