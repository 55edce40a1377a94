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

/// True where temporal blocking (tiled) beats a plain sweep on `block` at `threads` threads, as
/// `calor bench node --auto-only` measured it (2-core AMD EPYC, 32 MiB L3, 1 MiB L2 per core;
/// docs/benchmarks.md, "auto at every size"):
/// - once the two fields exceed a fraction of the last-level cache: 0.4 in 2D and 0.25 in 3D at
///   one thread (a 3D sweep reads three planes per plane written, so it leaves the cache
///   sooner), twice that at two threads or more (the second core adds its L2 and its bandwidth
///   from L3 to a plain sweep; more cores were not measured).
/// (Tiny 3D grids at two threads, 32^3 and 48^3, ran 7-11% faster tiled in one sweep and 16%
/// slower in the next: the in-cache two-thread rows are this VM's noisiest, so no rule.)
inline bool prefer_temporal_blocking(const Grid& block, int threads) {
  const double bytes = 2.0 * static_cast<double>(block.cells()) * sizeof(double);
  const double fraction = (block.dim >= 3 ? 0.25 : 0.4) * std::min(std::max(threads, 1), 2);
  return bytes > fraction * static_cast<double>(caches().llc);
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
