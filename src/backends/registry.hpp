#pragma once
// The backend registry: each backend file defines one BackendEntry (its name, the memory space
// its fields live in, how to make it and how it bids for "auto"), and the list below names the
// entries compiled in. To add a backend: one file with its entry, one line here, one line in
// CMakeLists.txt.

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>

#include "calor/backend.hpp"
#include "calor/field.hpp"
#include "calor/machine.hpp"

namespace calor {

/// What a backend offers for "auto" on a process's block: the highest score runs. A score of 0
/// declines; a declining bid's reason says why (shown when a fallback wins without a reason).
struct AutoBid {
  int score = 0;
  std::string reason;
};

/// One registered backend.
struct BackendEntry {
  std::string_view name;
  MemorySpace space = MemorySpace::host;
  std::unique_ptr<Backend> (*make)(const BackendOptions& options) = nullptr;
  /// Its bid for `block` at `threads` threads (> 0); nullptr: never picked by "auto".
  AutoBid (*bid)(const Grid& block, int threads) = nullptr;
};

/// Where a 2D step is so short that a plain sweep on two threads is bound by its barrier: each
/// thread's share is at most kBarrierBoundCells cells (a few microseconds of work), in at least
/// kBarrierBoundRows rows, which the tiled backend's bands of rows need at its depth of 32
/// (2 x 32 + 2), and rows of at least kBarrierBoundWidth cells, which its column strips need
/// (two strips of 4 vectors of 8 or more). The threads backend meets every step, tiled once a
/// block. Measured at two threads only, where the last level is slow (the Intel VM, best of 5
/// interleaved, tiled over threads: 160^2 1.34, 184^2 1.18, 224^2 1.14, 256^2 1.13, 300^2 0.99,
/// 360^2 0.93; 128^2, 64 rows a thread and so no bands, 0.68).
inline constexpr index_t kBarrierBoundCells = 40000;
inline constexpr index_t kBarrierBoundRows = 80;
inline constexpr index_t kBarrierBoundWidth = 64;
inline bool barrier_bound(const Grid& block, int threads) {
  return block.dim == 2 && threads == 2 && block.cells() / threads <= kBarrierBoundCells &&
         block.n[1] / threads >= kBarrierBoundRows && block.n[0] >= kBarrierBoundWidth;
}

/// The 2D rule of prefer_temporal_blocking by size alone: whether the two fields outgrow the cache
/// a plain sweep on `threads` threads runs from (below).
inline bool outgrows_sweep_cache(const Grid& block, int threads, bool fast_llc) {
  const double bytes = 2.0 * static_cast<double>(block.cells()) * sizeof(double);
  const auto llc = static_cast<double>(caches().llc), l2 = static_cast<double>(caches().l2);
  threads = std::max(threads, 1);
  const double by_l2 = l2 * (threads == 1 ? 0.9 : 0.95 * threads);
  return bytes > (fast_llc ? 0.3 * llc : std::min(by_l2, 0.4 * llc));
}

/// True where temporal blocking (tiled) beats a plain sweep on `block` at `threads` threads, as
/// `calor bench node --auto-only` and the 3D runs of docs/benchmarks.md ("Temporal blocking in
/// 3D", "A slow last-level cache") measured it. Where the last-level cache feeds a plain sweep at
/// its in-cache rate (`fast_llc`; the 2-core AMD EPYC, 32 MiB L3, 1 MiB L2 per core):
/// - 2D: once the two fields exceed 0.3 of the last-level cache (a VM with its L3 at 0.7-0.85x
///   the L2's rate, tiled stepping its strips in place; best of 4-5 interleaved `calor run`
///   rounds: at one thread simd ran ahead at 728^2, 0.25 of the L3, by 1.04x, the two tied at
///   800^2, 0.31, and tiled ran ahead at 880^2, 0.37, by 1.22x; at two threads the plain sweep
///   and tiled tied at 728^2 and 800^2, and tiled ran ahead at 880^2 and 1024^2 by 1.14-1.16x;
///   a plain sweep falls to memory's pace past the L3, between 1200^2 and 1448^2);
/// - 3D at one thread: except where the fields take 0.1-0.36 of the last-level cache (70^3 to
///   88^3 here), where simd, in four-row units, ran 1.11-1.19x as fast; tiled ran 1.9-2.2x simd
///   from 96^3 (0.42) up, and the two tied below 64^3;
/// - 3D at two threads or more: once the fields take more than 0.48 of the last-level cache
///   (104^3 here: tiled ran 1.17-1.9x threads from there up). Below it the threads backend, each
///   thread filling its own rows' halo with one barrier a step, ran 1.3x tiled at 24^3-40^3
///   and 1.5-1.8x at 48^3-88^3; the two tied at 96^3.
/// Where it does not (the 2-core Intel Xeon, 260 MiB L3 at 0.4-0.5 of the L2's rate, 2 MiB L2 per
/// core), the L2 is what a plain sweep runs from:
/// - 2D: once the fields exceed 0.9 of the L2 at one thread, 0.95 of an L2 per thread at two or
///   more (the crossings measured in `calor run` rounds with whole tiled blocks: 330^2-360^2 at
///   one thread, 480^2-512^2 at two), and below that at two where a step is barrier_bound;
/// - 3D: always.
inline bool prefer_temporal_blocking(const Grid& block, int threads, bool fast_llc) {
  if (block.dim < 3)
    return outgrows_sweep_cache(block, threads, fast_llc) ||
           (!fast_llc && barrier_bound(block, threads));
  if (!fast_llc) return true;
  const double share =
      2.0 * static_cast<double>(block.cells()) * sizeof(double) / static_cast<double>(caches().llc);
  return threads <= 1 ? share <= 0.1 || share > 0.36 : share > 0.48;
}

/// prefer_temporal_blocking on this machine: its last-level cache is measured (llc_feeds_sweeps)
/// only where the answer depends on it.
inline bool prefer_temporal_blocking(const Grid& block, int threads) {
  const bool fast = prefer_temporal_blocking(block, threads, true);
  const bool slow = prefer_temporal_blocking(block, threads, false);
  return fast == slow || llc_feeds_sweeps() ? fast : slow;
}

}  // namespace calor

// The backends compiled in, in the order `calor info` lists them.
#if defined(CALOR_HAVE_CUDA)
#define CALOR_BACKENDS(X) X(serial) X(simd) X(threads) X(tiled) X(cuda)
#else
#define CALOR_BACKENDS(X) X(serial) X(simd) X(threads) X(tiled)
#endif

#define CALOR_BACKEND_ENTRY(id) extern const calor::BackendEntry id##_backend;
namespace calor::registry {
CALOR_BACKENDS(CALOR_BACKEND_ENTRY)
}  // namespace calor::registry
#undef CALOR_BACKEND_ENTRY
