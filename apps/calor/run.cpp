#include "commands.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "calor/analytic.hpp"
#include "calor/backend.hpp"
#include "calor/npy.hpp"
#include "calor/solver.hpp"
#include "progress.hpp"

namespace calor::app {

namespace {

std::string grid_string(const Grid& g) {
  std::string s;
  for (int a = 0; a < g.dim; ++a)
    s += (a ? " x " : "") + std::to_string(g.n[a]);
  return s;
}

std::string boundary_string(const Boundaries& bc, int dim) {
  // One word when all faces agree, else the list of faces.
  bool same = true;
  for (int a = 0; a < dim; ++a)
    for (int s = 0; s < 2; ++s)
      same = same && describe(bc.face[a][s]) == describe(bc.face[0][0]);
  if (same) return describe(bc.face[0][0]);
  std::string r;
  for (int a = 0; a < dim; ++a)
    for (int s = 0; s < 2; ++s)
      r += (r.empty() ? "" : ", ") + face_name(a, s) + " " + describe(bc.face[a][s]);
  return r;
}

std::string json_escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      r += buf;
      continue;
    }
    r += c;
  }
  return r;
}

// Shortest decimal that reads back as the same double; JSON has no NaN, so those become null.
std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

struct Summary {
  const Problem& p;
  std::string backend, backend_reason;
  std::int64_t steps;
  Stats stats;
  double seconds;
  std::optional<double> error;

  [[nodiscard]] double mlups() const {
    return seconds > 0
               ? static_cast<double>(p.grid.cells()) * static_cast<double>(steps) / seconds / 1e6
               : 0.0;
  }
  [[nodiscard]] double gbs() const { return mlups() * kBytesPerUpdate / 1e3; }
};

void print_text(const Summary& s) {
  const Problem& p = s.p;
  std::printf("calor run: %s, %dD grid %s, boundary %s, %zu point source%s\n", p.name.c_str(),
              p.grid.dim, grid_string(p.grid).c_str(),
              boundary_string(p.boundaries, p.grid.dim).c_str(), p.sources.points.size(),
              p.sources.points.size() == 1 ? "" : "s");
  std::printf("  backend     %s (%s)\n", s.backend.c_str(), s.backend_reason.c_str());
  std::printf("  steps       %lld   dt %g   alpha %g   r = %g (FTCS limit 0.5)\n",
              static_cast<long long>(s.steps), p.dt, p.alpha, p.stability_number());
  std::printf("  heat        %.4f\n", s.stats.heat);
  std::printf("  min         %.6e\n", s.stats.min);
  std::printf("  max         %.6e\n", s.stats.max);
  std::printf("  l2          %.6e\n", s.stats.l2);
  if (s.error) std::printf("  error       %.3e (RMS vs the exact solution)\n", *s.error);
  std::printf("  time        %.3f s\n", s.seconds);
  std::printf("  throughput  %.1f MLUP/s, %.2f GB/s effective (%d B per cell update)\n", s.mlups(),
              s.gbs(), kBytesPerUpdate);
}

void print_json(const Summary& s) {
  const Problem& p = s.p;
  std::string n;
  for (int a = 0; a < p.grid.dim; ++a)
    n += (a ? ", " : "") + std::to_string(p.grid.n[a]);
  std::printf(
      "{\"case\": \"%s\", \"dim\": %d, \"n\": [%s], \"backend\": \"%s\", \"steps\": %lld, "
      "\"dt\": %s, \"alpha\": %s, \"r\": %s, \"heat\": %s, \"min\": %s, \"max\": %s, "
      "\"l2\": %s, \"seconds\": %s, \"mlups\": %s, \"gbs\": %s",
      json_escape(p.name).c_str(), p.grid.dim, n.c_str(), json_escape(s.backend).c_str(),
      static_cast<long long>(s.steps), json_number(p.dt).c_str(), json_number(p.alpha).c_str(),
      json_number(p.stability_number()).c_str(), json_number(s.stats.heat).c_str(),
      json_number(s.stats.min).c_str(), json_number(s.stats.max).c_str(),
      json_number(s.stats.l2).c_str(), json_number(s.seconds).c_str(),
      json_number(s.mlups()).c_str(), json_number(s.gbs()).c_str());
  if (s.error) std::printf(", \"error\": %s", json_number(*s.error).c_str());
  std::printf("}\n");
}

}  // namespace

int run_command(const RunOptions& o) {
  const Config c = o.config_path.empty() ? load_config("", "command line", o.overrides)
                                         : load_config_file(o.config_path, o.overrides);
  const Problem& p = c.problem;
  const BackendOptions bo{c.run.threads, c.run.tile_depth};
  std::string reason;
  Solver solver(p, select_backend(c.run.backend, bo, p.grid, &p.boundaries, &reason));

  ProgressReporter progress(o.progress ? ProgressReporter::automatic()
                                       : ProgressReporter::Mode::none);
  const double seconds = solver.run([&](const Progress& pr) { progress(pr); }, progress.interval());
  progress.finish();

  if (!o.save_npy.empty()) {
    std::vector<double> dense(static_cast<std::size_t>(p.grid.cells()));
    solver.field().copy_interior_to(dense.data());
    std::vector<std::int64_t> shape;
    for (int a = p.grid.dim - 1; a >= 0; --a)
      shape.push_back(p.grid.n[a]);
    save_npy(o.save_npy, shape, dense.data());
  }

  const Summary s{p,
                  std::string(solver.backend().name()),
                  reason,
                  solver.step_count(),
                  solver.stats(),
                  seconds,
                  analytic_error(p, solver.field(), solver.time())};
  if (o.json)
    print_json(s);
  else
    print_text(s);
  return 0;
}

}  // namespace calor::app
