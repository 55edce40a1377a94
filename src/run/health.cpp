#include "calor/health.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace calor {

namespace {

// Whether a value passes: NaN fails every comparison, so this one test also finds NaN and
// infinity.
inline bool sane(double v) {
  return std::fabs(v) <= kBlowUp;
}

// Whether any of row[0, n) fails, with no early exit so that the loop vectorises: the check then
// runs at memory's pace instead of taking a branch per cell.
bool row_fails(const double* row, index_t n) {
  int failed = 0;
  for (index_t i = 0; i < n; ++i)
    failed |= sane(row[i]) ? 0 : 1;
  return failed != 0;
}

// The message for the value v at global cell g.
std::string blew_up(const State& s, double v, const index_t (&g)[3]) {
  const Problem& p = *s.problem;
  char cell[96];
  if (p.grid.dim == 1)
    std::snprintf(cell, sizeof cell, "(%lld)", static_cast<long long>(g[0]));
  else if (p.grid.dim == 2)
    std::snprintf(cell, sizeof cell, "(%lld, %lld)", static_cast<long long>(g[0]),
                  static_cast<long long>(g[1]));
  else
    std::snprintf(cell, sizeof cell, "(%lld, %lld, %lld)", static_cast<long long>(g[0]),
                  static_cast<long long>(g[1]), static_cast<long long>(g[2]));
  char msg[512];
  const double r = p.stability_number();
  std::snprintf(
      msg, sizeof msg,
      "the solution blew up by step %lld: u = %g at cell %s (0-based). The stability "
      "number r = alpha*dt*sum(1/h^2) = %g %s the FTCS limit 0.5%s",
      static_cast<long long>(s.step), v, cell, r, r > kStabilityLimit ? "exceeds" : "is within",
      r > kStabilityLimit ? ": reduce dt (or drop --allow-unstable)"
                          : ": check the initial field, the sources and the boundary values");
  return msg;
}

}  // namespace

std::string check_field(const State& s, int threads) {
  const Box& b = s.box;
  const index_t nx = b.size(0), ny = b.size(1), rows = ny * b.size(2);
  auto row = [&](index_t r) { return s.cells + s.stride_y * (r % ny) + s.stride_z * (r / ny); };
  // The first failing row in storage order (y fastest), on `threads` threads: each share stops
  // scanning once it has found one, and the earliest share's wins.
  index_t first = rows;
  const int nt = std::max(threads, 1);
#pragma omp parallel for num_threads(nt) schedule(static) reduction(min : first) if (nt > 1)
  for (index_t r = 0; r < rows; ++r)
    if (r < first && row_fails(row(r), nx)) first = r;
  if (first == rows) return {};
  const double* bad = row(first);
  index_t i = 0;
  while (i + 1 < nx && sane(bad[i]))
    ++i;
  const index_t g[3] = {i + b.low[0], first % ny + b.low[1], first / ny + b.low[2]};
  return blew_up(s, bad[i], g);
}

}  // namespace calor
