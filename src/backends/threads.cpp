// The threads backend: the simd sweep on every core, rows split statically between threads (about
// the split of the fields' first touch, so each thread mostly reads memory it placed).

#include <omp.h>

#include <utility>

#include "backends/registry.hpp"
#include "calor/backend.hpp"
#include "calor/machine.hpp"
#include "sweep.hpp"

namespace calor {

namespace detail {

namespace {

// The frame of every threaded step: rows split statically, each thread swapping its own field
// pointers (no shared swap, no barrier for it); per step `update(lo, hi, in, out)` on the
// thread's rows, their sources, and one barrier, as the next step reads the rows beside each
// thread's.
template <class Update>
void team_steps(const Scheme& scheme, Field& cur, Field& next, std::int64_t steps, int threads,
                const Update& update) {
  const Grid& g = cur.grid();
  const index_t rows = row_count(g);
#pragma omp parallel num_threads(threads)
  {
    const auto [lo, hi] = static_block(rows, omp_get_thread_num(), omp_get_num_threads());
    Field* a = &cur;
    Field* b = &next;
    for (std::int64_t s = 0; s < steps; ++s) {
      update(lo, hi, *a, *b);
      add_sources_in(scheme, *b, b->offset(0, lo % g.n[1], lo / g.n[1]),
                     b->offset(0, hi % g.n[1], hi / g.n[1]));
#pragma omp barrier
      std::swap(a, b);
    }
  }
  if (steps % 2 == 1) std::swap(cur, next);
}

}  // namespace

void threaded_steps(const Scheme& scheme, Halo& halo, Field& cur, Field& next, std::int64_t steps,
                    int threads) {
  const bool stream = should_stream(cur);
  const Grid& g = cur.grid();
  if (halo.local() || !halo.any_exchanged(g.dim)) {
    // The halo comes from the field alone (one process: boundary conditions and periodic
    // copies), or no face is exchanged: each thread fills the halo cells beside its own rows,
    // the only halo cells its rows read, from cells no thread writes during the step (its own,
    // or for a periodic face the opposite interior layer). A step then needs one barrier where
    // a shared update took three, and no thread waits while another fills every face.
    FaceMask every{};
    for (int a = 0; a < g.dim; ++a)
      every[a] = {true, true};
    team_steps(scheme, cur, next, steps, threads,
               [&](index_t lo, index_t hi, Field& in, Field& out) {
                 fill_physical_rows(halo.boundaries(), g, in, lo, hi, every, halo.conductivity());
                 sweep_rows(scheme, in, out, lo, hi, stream);
               });
    return;
  }
  const Inner inner = inner_region(halo, g);
  const bool overlap = halo.overlaps();
  team_steps(scheme, cur, next, steps, threads, [&](index_t lo, index_t hi, Field& in, Field& out) {
    if (overlap) {
      // One thread talks to MPI (MPI_THREAD_SERIALIZED) and moves the transfer on
      // while every thread updates the inner cells of its rows.
      Halo* mover = omp_get_thread_num() == 0 ? &halo : nullptr;
#pragma omp single
      halo.begin_update(in);
      sweep_rows_part(scheme, in, out, lo, hi, stream, inner, true, mover);
#pragma omp barrier
#pragma omp single
      halo.end_update(in);
      sweep_rows_part(scheme, in, out, lo, hi, stream, inner, false, nullptr);
    } else {
#pragma omp single
      halo.update(in);
      sweep_rows(scheme, in, out, lo, hi, stream);
    }
  });
}

}  // namespace detail

namespace {

class ThreadsBackend final : public Backend {
 public:
  explicit ThreadsBackend(int threads) : threads_(threads > 0 ? threads : default_threads()) {}
  std::string_view name() const override { return "threads"; }
  void advance(const Scheme& scheme, Halo& halo, Field& cur, Field& next,
               std::int64_t steps) override {
    detail::threaded_steps(scheme, halo, cur, next, steps, threads_);
  }
  [[nodiscard]] int threads() const override { return threads_; }

 private:
  int threads_;
};

}  // namespace

// The fallback of "auto": always bids, lowest. Out of cache its reason is why the backends
// that bid higher declined.
const BackendEntry registry::threads_backend{
    "threads", MemorySpace::host,
    [](const BackendOptions& o) -> std::unique_ptr<Backend> {
      return std::make_unique<ThreadsBackend>(o.threads);
    },
    [](const Grid& block, int threads) {
      return !prefer_temporal_blocking(block, threads)
                 ? AutoBid{10,
                           "the fields fit in the cache, where a plain sweep on every core is "
                           "fastest"}
                 : AutoBid{10, ""};
    }};

}  // namespace calor
