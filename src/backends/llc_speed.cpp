// How fast the last-level cache feeds a plain sweep: measured once per process, by the case
// study's own row kernel on a grid in the L2 cache and on one in the last-level cache.
//
// Why measure: on the AMD EPYC development VM (32 MiB L3 per CCD) a plain sweep ran as fast from
// the L3 as from the L2, so temporal blocking only paid once the fields outgrew the L3. On an
// Intel Xeon VM (2 MiB L2, 260 MiB mesh L3) the same sweep ran at 0.4-0.5 of its L2 rate from
// the L3, and blocking paid from about the L2's size (docs/benchmarks.md, "A slow last-level
// cache"). The cache sizes alone do not tell the two apart.

#include <atomic>
#include <cstdlib>
#include <string>

#include "calor/error.hpp"
#include "calor/machine.hpp"
#include "sweep_probe.hpp"

namespace calor {

namespace {

double measure_llc_speed() {
  const detail::ProbeSizes bytes = detail::probe_sizes(caches());
  // No cache beyond the L2 worth the name (or CALOR_LLC made it small): nothing to tell apart.
  if (bytes.llc <= 0) return 1.0;
  detail::SweepProbe in_l2(bytes.l2), in_llc(bytes.llc);
  for (int round = 0; round < 4; ++round) {  // interleaved, so a noisy moment hits both alike
    in_l2.time();
    in_llc.time();
  }
  return in_llc.best() / in_l2.best();
}

// CALOR_LLC_SPEED: the ratio to use instead of measuring it.
double speed_override(const char* text) {
  const std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !(v > 0.0 && v <= 4.0))
    throw Error("CALOR_LLC_SPEED='" + s +
                "' is not a speed ratio: give a number in (0, 4], e.g. 1 for a last-level "
                "cache as fast as the L2, 0.5 for one half as fast");
  return v;
}

// CALOR_LLC_SPEED's ratio, or -1 where it is not set (read once; a bad value throws each time).
double speed_setting() {
  static const double v = [] {
    const char* e = std::getenv("CALOR_LLC_SPEED");
    return e != nullptr ? speed_override(e) : -1.0;
  }();
  return v;
}

// The ratio the processes of a run agreed on (use_llc_sweep_speed), or < 0.
std::atomic<double> agreed{-1.0};

}  // namespace

double llc_sweep_speed() {
  static const double measured = speed_setting() >= 0 ? speed_setting() : measure_llc_speed();
  const double a = agreed.load(std::memory_order_relaxed);
  return a >= 0 ? a : measured;
}

void use_llc_sweep_speed(double speed) {
  agreed.store(speed, std::memory_order_relaxed);
}

void check_machine_settings() {
  (void)caches();
  (void)speed_setting();
}

bool llc_feeds_sweeps() {
  return llc_sweep_speed() >= kFastLlc;
}

}  // namespace calor
