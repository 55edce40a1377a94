#include "calor/initial.hpp"

#include <cmath>
#include <string>

#include "calor/error.hpp"
#include "calor/npy.hpp"

namespace calor {

void apply_initial(const Initial& init, Field& f, const Grid& global,
                   const std::array<index_t, 3>& origin) {
  const Grid& g = f.grid();
  switch (init.kind) {
    case InitialKind::zero:
      for_each_cell(g, [&](index_t i, index_t j, index_t k) { f(i, j, k) = 0.0; });
      return;
    case InitialKind::constant:
      for_each_cell(g, [&](index_t i, index_t j, index_t k) { f(i, j, k) = init.value; });
      return;
    case InitialKind::gaussian: {
      const double inv = 1.0 / (2.0 * init.width * init.width);
      for_each_cell(g, [&](index_t i, index_t j, index_t k) {
        const std::array<index_t, 3> c{i + origin[0], j + origin[1], k + origin[2]};
        double r2 = 0;
        for (int a = 0; a < g.dim; ++a) {
          const double d = cell_coordinate(global, a, c[a]) - init.centre[a];
          r2 += d * d;
        }
        f(i, j, k) = init.amplitude * std::exp(-r2 * inv);
      });
      return;
    }
    case InitialKind::npy: {
      const NpyArray a = load_npy(init.path);
      // NumPy order: the slowest axis first, so a 2D grid of nx by ny is shape (ny, nx).
      const std::vector<std::int64_t> want = numpy_shape(global);
      if (a.shape != want)
        throw Error("initial.path '" + init.path + "' has shape " + shape_text(a.shape) +
                    ", expected " + shape_text(want) +
                    " (NumPy order: z, y, x; x = the first grid size)");
      for_each_cell(g, [&](index_t i, index_t j, index_t k) {
        const index_t gi = i + origin[0], gj = j + origin[1], gk = k + origin[2];
        f(i, j, k) = a.data[static_cast<std::size_t>(gi + global.n[0] * (gj + global.n[1] * gk))];
      });
      return;
    }
  }
}

}  // namespace calor
