#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace calor::app {

ProgressReporter::Mode ProgressReporter::automatic() {
  return isatty(STDERR_FILENO) ? Mode::bar : Mode::log;
}

namespace {

// "12.3 s", "4.1 min", "2.5 h": a duration as a person reads it.
std::string duration(double s) {
  char b[32];
  if (s < 120)
    std::snprintf(b, sizeof b, "%.1f s", s);
  else if (s < 7200)
    std::snprintf(b, sizeof b, "%.1f min", s / 60);
  else
    std::snprintf(b, sizeof b, "%.1f h", s / 3600);
  return b;
}

}  // namespace

void ProgressReporter::operator()(const RunProgress& p) {
  if (mode_ == Mode::none || p.total <= 0) return;
  // Called after every chunk of steps; draws at most every interval(). A log line comes less
  // often as the run goes on (every 5 s at first, every 5 min after an hour), so that a day's
  // batch log holds a few hundred lines, not tens of thousands.
  const double every =
      mode_ == Mode::log ? std::clamp(p.seconds / 12, interval(), 300.0) : interval();
  if (p.step < p.total && p.seconds - last_ < every) return;
  last_ = p.seconds;
  const double frac = static_cast<double>(p.step) / static_cast<double>(p.total);
  // The rate and the ETA from this advance's own steps (a restart begins part-way).
  const double done = static_cast<double>(p.step - p.first);
  const double rate = p.seconds > 0 ? done / p.seconds : 0;
  const std::string eta =
      rate > 0 ? duration(static_cast<double>(p.total - p.step) / rate) : std::string("?");
  if (mode_ == Mode::bar) {
    constexpr int width = 24;
    const int filled = static_cast<int>(frac * width);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(width - filled), '.');
    std::fprintf(stderr, "\r[%s] %3.0f%%  step %lld/%lld  t = %-9.4g %7.0f steps/s  %s  ETA %s  ",
                 bar.c_str(), 100 * frac, static_cast<long long>(p.step),
                 static_cast<long long>(p.total), p.time, rate, duration(p.seconds).c_str(),
                 eta.c_str());
    drawn_ = true;
  } else if (p.step < p.total) {
    std::fprintf(stderr,
                 "calor: step %lld/%lld (%.0f%%), t = %.6g, %.0f steps/s, %s elapsed, ETA %s\n",
                 static_cast<long long>(p.step), static_cast<long long>(p.total), 100 * frac,
                 p.time, rate, duration(p.seconds).c_str(), eta.c_str());
  }
  std::fflush(stderr);
}

void ProgressReporter::finish() {
  if (drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace calor::app
