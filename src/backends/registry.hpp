#pragma once
// The backend registry: each backend file defines one BackendEntry (its name, the memory space
// its fields live in, how to make it and how it bids for "auto"), and the list below names the
// entries compiled in. To add a backend: one file with its entry, one line here, one line in
// CMakeLists.txt.

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

/// True when the two fields of `block` fit in half the last-level cache.
inline bool fields_fit_in_cache(const Grid& block) {
  const double bytes = 2.0 * static_cast<double>(block.cells()) * sizeof(double);
  return bytes <= 0.5 * static_cast<double>(caches().llc);
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
