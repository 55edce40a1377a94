// `calor sweep FILE`: a parameter sweep for users who do not write Python (calor.ensemble is
// the parallel, distributed one). The members run one after another on this process, each
// with all its threads; a member that fails stays in its row and the others go on.

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "calor/config.hpp"
#include "calor/error.hpp"
#include "calor/run.hpp"
#include "commands.hpp"

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

}  // namespace

int sweep_command(const SweepOptions& o) {
  std::ifstream in(o.file);
  if (!in) throw Error("cannot read sweep file '" + o.file + "'");
  std::stringstream text;
  text << in.rdbuf();
  const std::vector<SweepMember> members = load_sweep(text.str(), o.file);
  std::vector<Row> rows;
  int failed = 0;
  for (std::size_t i = 0; i < members.size(); ++i) {
    rows.push_back(run_member(members[i], o, i));
    failed += rows.back().error.empty() ? 0 : 1;
    if (o.progress)
      std::fprintf(stderr, "calor sweep: member %zu/%zu (%s): %s, %.2f s\n", i + 1, members.size(),
                   settings_text(members[i]).c_str(), rows.back().error.empty() ? "ok" : "failed",
                   rows.back().seconds);
  }
  print_table(rows);
  if (!o.csv.empty()) write_csv(o.csv, rows);
  if (failed > 0)
    std::fprintf(stderr, "calor sweep: %d of %zu members failed (see their rows)\n", failed,
                 members.size());
  return failed > 0 ? kExitFailed : 0;
}

}  // namespace calor::app
