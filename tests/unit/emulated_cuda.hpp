#pragma once
// The cuda backend's step sequence (cuda::advance_on) with every launch run thread by thread on
// the CPU, block by block, out-of-range threads included: the very code the device runs, its
// launch geometry and its order, on host memory. Used by the unit tests (single process) and
// the MPI tests (the halo filled on the host through a staging field, as on the device).

#include <memory>
#include <string_view>
#include <vector>

#include "calor/backend.hpp"
#include "cuda/kernels.hpp"

namespace calor::test {

// Runs each launch's threads in order on the host.
struct HostExec {
  const std::vector<SourceCell>* cells;
  int launches = 0;

  const double* read(const std::shared_ptr<const Field>& f) { return f ? f->raw() : nullptr; }

  template <class F>
  void each_thread(const cuda::Launch& l, F&& f) {
    ++launches;
    for (std::uint32_t bz = 0; bz < l.grid[2]; ++bz)
      for (std::uint32_t by = 0; by < l.grid[1]; ++by)
        for (std::uint32_t bx = 0; bx < l.grid[0]; ++bx)
          for (std::uint32_t tz = 0; tz < l.block[2]; ++tz)
            for (std::uint32_t ty = 0; ty < l.block[1]; ++ty)
              for (std::uint32_t tx = 0; tx < l.block[0]; ++tx)
                f(index_t{bx} * l.block[0] + tx, index_t{by} * l.block[1] + ty,
                  index_t{bz} * l.block[2] + tz);
  }
  void face(const cuda::FaceParams& p, const cuda::Launch& l, double* u) {
    each_thread(l, [&](index_t t1, index_t t2, index_t) { cuda::face_cell(p, u, t1, t2); });
  }
  template <class S>
  void sweep(const cuda::SweepParams& p, const cuda::Launch& l, const double* in, double* out) {
    each_thread(l, [&](index_t i, index_t j, index_t k) {
      cuda::sweep_cell<S::dim, S::form, S::heat>(p, in, out, i, j, k);
    });
  }
  void layers_out(const std::vector<cuda::FaceParams>& faces, const double* u, double* buf) {
    for (const cuda::FaceParams& f : faces) {
      each_thread(cuda::face_launch(f),
                  [&](index_t t1, index_t t2, index_t) { cuda::layer_out(f, u, buf, 0, t1, t2); });
      buf += f.n1 * f.n2;
    }
  }
  void layers_in(const std::vector<cuda::FaceParams>& faces, const double* buf, double* u) {
    for (const cuda::FaceParams& f : faces) {
      each_thread(cuda::face_launch(f), [&](index_t t1, index_t t2, index_t) {
        cuda::layer_in(f, u, buf, f.to_halo, t1, t2);
      });
      buf += f.n1 * f.n2;
    }
  }
  void sources(double* u) {
    for (const SourceCell& c : *cells)
      u[c.offset] += c.energy;
  }
};

// The cuda backend's step sequence with HostExec in place of kernel launches.
class EmulatedCuda final : public Backend {
 public:
  [[nodiscard]] std::string_view name() const override { return "emulated-cuda"; }
  void advance(const Scheme& scheme, Halo& halo, Field& cur, Field& next,
               std::int64_t steps) override {
    HostExec exec{&scheme.sources};
    cuda::advance_on(exec, scheme, halo, cur, next, steps, cuda::staging_for(halo, cur, staging_));
  }

 private:
  Field staging_;
};

}  // namespace calor::test
