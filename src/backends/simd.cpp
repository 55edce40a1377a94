// The simd backend: one thread, every SIMD lane, streaming stores on grids larger than the cache.

#include <utility>

#include "backends/registry.hpp"
#include "calor/backend.hpp"
#include "sweep.hpp"

namespace calor {

namespace {

class SimdBackend final : public Backend {
 public:
  std::string_view name() const override { return "simd"; }
  void advance(const Scheme& scheme, Halo& halo, Field& cur, Field& next,
               std::int64_t steps) override {
    const bool stream = detail::should_stream(cur);
    const index_t rows = detail::row_count(cur.grid());
    // Under MPI: exchange while the inner cells are updated, then the layer next to the faces.
    const bool overlap = halo.overlaps();
    const detail::Inner inner = detail::inner_region(halo, cur.grid());
    for (std::int64_t s = 0; s < steps; ++s) {
      if (overlap) {
        halo.begin_update(cur);
        detail::sweep_rows_part(scheme, cur, next, 0, rows, stream, inner, true, &halo);
        halo.end_update(cur);
        detail::sweep_rows_part(scheme, cur, next, 0, rows, stream, inner, false, nullptr);
      } else {
        halo.update(cur);
        detail::sweep_rows(scheme, cur, next, 0, rows, stream);
      }
      add_sources(scheme, next);
      std::swap(cur, next);
    }
  }
};

}  // namespace

const BackendEntry registry::simd_backend{
    "simd", MemorySpace::host,
    [](const BackendOptions&) -> std::unique_ptr<Backend> {
      return std::make_unique<SimdBackend>();
    },
    [](const Grid&, int threads) {
      return threads == 1 ? AutoBid{20, "one thread: the vectorised sweep"} : AutoBid{};
    }};

}  // namespace calor
