#pragma once
// The machine's memory bandwidth, measured: the roofline every benchmark is set against.

#include <cstddef>
#include <memory>

namespace calor {

/// A measured copy bandwidth.
struct Bandwidth {
  double gbs = 0;         ///< best of the repetitions, GB/s, counting one read and one write
  double spread = 0;      ///< (worst - best) / best over the repetitions
  std::size_t bytes = 0;  ///< size of each of the two arrays
  int threads = 1;
  bool streaming = true;  ///< stores bypassed the cache (as the out-of-cache sweeps do)
};

/// Two arrays of `bytes` each, first touched by the `threads` threads that copy them (static
/// split): allocated once, so that a benchmark can measure the bandwidth again right beside each
/// of its own runs. On a shared machine the bandwidth on offer drifts from minute to minute, and a
/// ratio is only fair against a copy timed in the same minute.
class CopyKernel {
 public:
  CopyKernel(std::size_t bytes, int threads);
  ~CopyKernel();
  CopyKernel(const CopyKernel&) = delete;
  CopyKernel& operator=(const CopyKernel&) = delete;

  /// Copies the array `passes` times (in one timing: arrays in a cache take many passes to
  /// outweigh starting the threads) and returns the rate in GB/s: 16 bytes moved per element,
  /// exactly the traffic of one stencil update.
  double copy_gbs(bool streaming = true, int passes = 1);
  /// The best of `reps` timings, with their spread.
  Bandwidth measure(int reps, bool streaming = true, int passes = 1);
  [[nodiscard]] std::size_t bytes() const;

 private:
  struct Arrays;
  std::unique_ptr<Arrays> arrays_;
  int threads_;
};

/// Copies one array of `bytes` into another `reps` times on `threads` threads and returns the
/// best rate (CopyKernel::measure). Use arrays much larger than the last-level cache.
Bandwidth measure_copy_bandwidth(std::size_t bytes, int threads, int reps = 5,
                                 bool streaming = true);

}  // namespace calor
