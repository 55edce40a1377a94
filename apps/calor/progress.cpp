#include "progress.hpp"

#include <unistd.h>

namespace calor::app {

ProgressReporter::Mode ProgressReporter::automatic() {
  return isatty(STDERR_FILENO) ? Mode::bar : Mode::log;
}

void ProgressReporter::operator()(const RunProgress& p) {
  if (mode_ == Mode::none || p.total <= 0) return;
  // Called after every chunk of steps; draws at most every interval().
  if (p.step < p.total && p.seconds - last_ < interval()) return;
  last_ = p.seconds;
  const double frac = static_cast<double>(p.step) / static_cast<double>(p.total);
  const double eta = frac > 0 ? p.seconds * (1 - frac) / frac : 0;
  if (mode_ == Mode::bar) {
    constexpr int width = 30;
    const int filled = static_cast<int>(frac * width);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(width - filled), '.');
    std::fprintf(stderr, "\r[%s] %3.0f%%  step %lld/%lld  %.1f s  ETA %.1f s ", bar.c_str(),
                 100 * frac, static_cast<long long>(p.step), static_cast<long long>(p.total),
                 p.seconds, eta);
    drawn_ = true;
  } else if (p.step < p.total) {
    std::fprintf(stderr, "calor: step %lld/%lld (%.0f%%), %.1f s elapsed, ETA %.1f s\n",
                 static_cast<long long>(p.step), static_cast<long long>(p.total), 100 * frac,
                 p.seconds, eta);
  }
  std::fflush(stderr);
}

void ProgressReporter::finish() {
  if (drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace calor::app
