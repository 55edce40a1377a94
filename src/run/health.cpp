#include "calor/health.hpp"

#include <cmath>
#include <cstdio>

namespace calor {

std::string check_field(const State& s) {
  const Box& b = s.box;
  const Problem& p = *s.problem;
  std::string found;
  for (index_t k = 0; k < b.size(2) && found.empty(); ++k)
    for (index_t j = 0; j < b.size(1) && found.empty(); ++j) {
      const double* row = s.cells + s.stride_y * j + s.stride_z * k;
      for (index_t i = 0; i < b.size(0); ++i) {
        const double v = row[i];
        if (std::isfinite(v) && std::fabs(v) <= kBlowUp) continue;
        char cell[96];
        const index_t g[3] = {i + b.low[0], j + b.low[1], k + b.low[2]};
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
        std::snprintf(msg, sizeof msg,
                      "the solution blew up by step %lld: u = %g at cell %s (0-based). The "
                      "stability number r = alpha*dt*sum(1/h^2) = %g %s the FTCS limit 0.5%s",
                      static_cast<long long>(s.step), v, cell, r,
                      r > kStabilityLimit ? "exceeds" : "is within",
                      r > kStabilityLimit
                          ? ": reduce dt (or drop --allow-unstable)"
                          : ": check the initial field, the sources and the boundary values");
        found = msg;
        break;
      }
    }
  return found;
}

}  // namespace calor
