#pragma once
/// \file machine.hpp
/// What the backends need to know about the machine: caches and cores.

#include <cstddef>
#include <vector>

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
/// How fast a plain sweep runs with its two fields in the last-level cache, as a fraction of its
/// rate with them in the L2: the case study's kernel timed on both, once per process, the first
/// time it is asked (10-20 ms). 1 without a last-level cache 8 L2s or more in size. The
/// environment variable CALOR_LLC_SPEED, e.g. 0.5, gives the ratio instead (a bad value throws
/// Error). "auto" and the tiled backend's strips size themselves by it.
double llc_sweep_speed();
/// The least llc_sweep_speed() at which the last-level cache counts as feeding a plain sweep at
/// its in-cache rate. Measured: 0.57-1.0 on the AMD EPYC development VMs, 0.36-0.45 on an Intel
/// Xeon VM; the threshold sits midway. (At 0.6 it split the EPYC's readings of 2026-12-05,
/// 0.57-0.74: one run in three took the slow level's plan and ran the case study 1.25x slower.)
inline constexpr double kFastLlc = 0.51;
/// llc_sweep_speed() >= kFastLlc.
bool llc_feeds_sweeps();
/// Makes llc_sweep_speed() answer `speed` in this process from now on (a negative speed: its own
/// measurement again). The processes of an MPI run agree on one (the least any measured) before
/// "auto" chooses, so that all choose alike.
void use_llc_sweep_speed(double speed);
/// Reads the environment's machine settings (CALOR_LLC, CALOR_LLC_SPEED) and throws Error on a
/// bad one, measuring nothing: a run calls it before its ranks' first collective step, so that
/// a setting bad on one rank only ends every rank with its message.
void check_machine_settings();
/// The cores this process may run on: its affinity mask (a batch job's share), at least 1.
int available_cores();
/// This process's affinity mask, one bit per CPU (bit c of byte c / 8), in a fixed number of
/// bytes; all zero where the system does not say. Where OpenMP binds threads (OMP_PROC_BIND),
/// the CPUs of its places, not the one place it bound the initial thread to. A node's ranks OR
/// theirs together to count the CPUs they may run on between them (Comm::node_cores).
std::vector<unsigned char> affinity_mask();
/// The CPUs set in `mask`.
int cpus_in(const std::vector<unsigned char>& mask);
/// Threads per rank by default, for `ranks` ranks on a node whose ranks may run on `node_cores`
/// CPUs between them, each rank on `own` of its own: an even share of the node, at most `own`,
/// at least 1. Ranks bound to cores of their own (Open MPI binds each of 2 ranks to a core)
/// keep all of theirs; unbound ones split the node.
int threads_per_rank(int own, int node_cores, int ranks);
/// Whether `threads` per rank oversubscribe: more than a rank's own `own_cores`, or more
/// threads on the node than the `node_cores` its `ranks` ranks may run on between them.
bool oversubscribed(int threads, int ranks, int own_cores, int node_cores);
/// OMP_NUM_THREADS as a positive count, or 0 where it is unset or not one.
int omp_num_threads();
/// Threads a parallel backend uses by default: OMP_NUM_THREADS if set, else the cores available.
int default_threads();
/// This machine's physical memory in bytes (sysconf: pages times page size), or 0 where the
/// system does not say.
std::size_t physical_memory();

}  // namespace calor
