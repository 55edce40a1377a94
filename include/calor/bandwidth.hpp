#pragma once
/// \file bandwidth.hpp
/// The machine's memory bandwidth, measured: the roofline every benchmark is set against.

#include <cstddef>

namespace calor {

/// A measured copy bandwidth.
struct Bandwidth {
  double gbs = 0;         ///< best of the repetitions, GB/s, counting one read and one write
  double spread = 0;      ///< (worst - best) / best over the repetitions
  std::size_t bytes = 0;  ///< size of each of the two arrays
  int threads = 1;
  bool streaming = true;  ///< stores bypassed the cache (as the out-of-cache sweeps do)
};

/// Copies one array of `bytes` into another `reps` times on `threads` threads (static split, first
/// touch by the same threads) and returns the best rate: 16 bytes moved per element, exactly the
/// traffic of one stencil update. Use arrays much larger than the last-level cache.
Bandwidth measure_copy_bandwidth(std::size_t bytes, int threads, int reps = 5,
                                 bool streaming = true);

}  // namespace calor
