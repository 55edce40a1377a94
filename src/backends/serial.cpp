// The reference backend: plain scalar loops in the canonical order (this file is compiled without
// auto-vectorisation). Every other backend must reproduce its results bit for bit.

#include <utility>

#include "backends/registry.hpp"
#include "calor/backend.hpp"
#include "dispatch.hpp"
#include "rows.hpp"

namespace calor {

void reference_sweep(const Scheme& scheme, const Field& in, Field& out) {
  detail::dispatch(scheme, [&](auto shape) {
    using S = decltype(shape);
    const auto w = Weights<double>::from(scheme.coeffs);
    const Grid& g = in.grid();
    for (index_t k = 0; k < g.n[2]; ++k)
      for (index_t j = 0; j < g.n[1]; ++j)
        detail::row_scalar<S>(w, scheme.dq, detail::row<S>(scheme, in, out, j, k), 0, g.n[0]);
  });
  add_sources(scheme, out);
}

namespace {

class SerialBackend final : public Backend {
 public:
  std::string_view name() const override { return "serial"; }
  void advance(const Scheme& scheme, Halo& halo, Field& cur, Field& next,
               std::int64_t steps) override {
    for (std::int64_t s = 0; s < steps; ++s) {
      halo.update(cur);
      reference_sweep(scheme, cur, next);
      std::swap(cur, next);
    }
  }
};

}  // namespace

const BackendEntry registry::serial_backend{"serial", MemorySpace::host,
                                            [](const BackendOptions&) -> std::unique_ptr<Backend> {
                                              return std::make_unique<SerialBackend>();
                                            },
                                            nullptr};  // the reference: chosen by name only

}  // namespace calor
