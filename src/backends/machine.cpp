#include "calor/machine.hpp"

#include <sched.h>

#include <unistd.h>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "calor/error.hpp"

namespace calor {

namespace {

// Parses sizes such as "32K" or "32768K" from /sys/devices/system/cpu/cpu0/cache/indexN/size.
std::size_t sys_cache(int index, std::size_t fallback, int* level = nullptr) {
  const std::string base = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index);
  std::ifstream size(base + "/size"), lvl(base + "/level");
  std::string s;
  if (!(size >> s) || s.empty()) return fallback;
  std::size_t v = std::strtoull(s.c_str(), nullptr, 10);
  if (s.back() == 'K') v <<= 10;
  if (s.back() == 'M') v <<= 20;
  if (level != nullptr && !(lvl >> *level)) *level = 0;
  return v > 0 ? v : fallback;
}

// CALOR_LLC: a last-level cache size in bytes, or with a K or M suffix.
std::size_t llc_override(const char* text) {
  const std::string s(text);
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  const std::string unit(end);
  const std::size_t shift = unit.empty() ? 0 : unit == "K" ? 10 : unit == "M" ? 20 : 64;
  if (end == s.c_str() || shift == 64 || v == 0 || s[0] == '-')
    throw Error("CALOR_LLC='" + s +
                "' is not a cache size: give bytes or K/M, e.g. 33554432, 32768K or 32M");
  return static_cast<std::size_t>(v) << shift;
}

}  // namespace

const Caches& caches() {
  static const Caches c = [] {
    Caches r;
    for (int idx = 0; idx < 8; ++idx) {
      std::ifstream type("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(idx) +
                         "/type");
      std::string t;
      if (!(type >> t)) break;
      if (t == "Instruction") continue;
      int level = 0;
      const std::size_t v = sys_cache(idx, 0, &level);
      if (v == 0) continue;
      if (level == 1) r.l1d = v;
      if (level == 2) r.l2 = v;
      if (level >= 2) r.llc = v;  // the highest level seen wins
    }
    // Where /sys says something unhelpful (a VM reporting the host's cache), or to make the
    // out-of-cache paths run on small grids in tests.
    if (const char* e = std::getenv("CALOR_LLC")) r.llc = llc_override(e);
    return r;
  }();
  return c;
}

namespace {

void set_cpu(std::vector<unsigned char>& mask, int c) {
  if (c >= 0 && c < static_cast<int>(mask.size()) * 8)
    mask[static_cast<std::size_t>(c / 8)] |= static_cast<unsigned char>(1u << (c % 8));
}

// The CPUs of the places OpenMP may bind this process's threads to, where binding is on
// (OMP_PROC_BIND): the runtime binds the initial thread to its first place as the program
// starts, so from then on the thread's own mask names that place alone (one CPU with
// OMP_PROC_BIND=close), and threads would default to 1. Empty where binding is off, and where
// this file is built without OpenMP (the fuzz targets' readers).
std::vector<unsigned char> omp_places_mask() {
  std::vector<unsigned char> mask(sizeof(cpu_set_t), 0);
#if defined(_OPENMP)
  if (omp_get_proc_bind() == omp_proc_bind_false) return mask;
  std::vector<int> places(static_cast<std::size_t>(std::max(0, omp_get_partition_num_places())));
  omp_get_partition_place_nums(places.data());
  for (const int place : places) {
    std::vector<int> ids(static_cast<std::size_t>(std::max(0, omp_get_place_num_procs(place))));
    omp_get_place_proc_ids(place, ids.data());
    for (const int c : ids)
      set_cpu(mask, c);
  }
#endif
  return mask;
}

}  // namespace

std::vector<unsigned char> affinity_mask() {
  if (std::vector<unsigned char> places = omp_places_mask(); cpus_in(places) > 0) return places;
  std::vector<unsigned char> mask(sizeof(cpu_set_t), 0);
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return mask;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) set_cpu(mask, c);
  return mask;
}

int cpus_in(const std::vector<unsigned char>& mask) {
  int n = 0;
  for (const unsigned char byte : mask)
    n += std::popcount(static_cast<unsigned>(byte));
  return n;
}

int available_cores() {
  // The affinity mask: a batch job's share of the node, not the whole node.
  if (const int n = cpus_in(affinity_mask()); n > 0) return n;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

int threads_per_rank(int own, int node_cores, int ranks) {
  return std::max(1, std::min(own, node_cores / std::max(1, ranks)));
}

bool oversubscribed(int threads, int ranks, int own_cores, int node_cores) {
  return threads > own_cores || static_cast<long long>(threads) * ranks > node_cores;
}

int omp_num_threads() {
  const char* e = std::getenv("OMP_NUM_THREADS");
  return e != nullptr ? std::max(0, std::atoi(e)) : 0;
}

int default_threads() {
  const int n = omp_num_threads();
  return n > 0 ? n : available_cores();
}

std::size_t physical_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 0;
  const auto p = static_cast<std::size_t>(pages), s = static_cast<std::size_t>(page);
  return p > SIZE_MAX / s ? SIZE_MAX : p * s;
}

}  // namespace calor
