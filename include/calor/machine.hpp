#pragma once
/// \file machine.hpp
/// What the backends need to know about the machine: caches and cores.

#include <cstddef>

namespace calor {

/// Cache sizes in bytes (per core for L1/L2, shared for the last level), read from the system.
struct Caches {
  std::size_t l1d = 32 << 10;
  std::size_t l2 = 1 << 20;
  std::size_t llc = 8 << 20;  ///< last-level cache
};

/// This machine's caches (read once from /sys, with conservative fallbacks; the environment
/// variable CALOR_LLC, e.g. 32M, overrides the last-level size and a bad value throws Error).
const Caches& caches();
/// The cores this process may run on: its affinity mask (a batch job's share), at least 1.
int available_cores();
/// Threads a parallel backend uses by default: OMP_NUM_THREADS if set, else the cores available.
int default_threads();
/// This machine's physical memory in bytes (sysconf: pages times page size), or 0 where the
/// system does not say.
std::size_t physical_memory();

}  // namespace calor
