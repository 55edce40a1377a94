#pragma once
// Progress reporting for long runs: a bar on a terminal, a log line every few seconds elsewhere.

#include <cstdio>
#include <string>

#include "calor/run.hpp"

namespace calor::app {

/// Draws progress on stderr. On a TTY it redraws one line; otherwise it prints a line at most
/// every `log_interval` seconds so that batch logs stay short.
class ProgressReporter {
 public:
  enum class Mode { none, bar, log };
  explicit ProgressReporter(Mode mode) : mode_(mode) {}
  /// Bar on a TTY, log lines otherwise.
  static Mode automatic();
  /// How often the solver should call back, in seconds.
  [[nodiscard]] double interval() const { return mode_ == Mode::bar ? 0.2 : 5.0; }
  void operator()(const RunProgress& p);
  /// Ends the bar's line.
  void finish();

 private:
  Mode mode_;
  bool drawn_ = false;
  double last_ = 0;
};

}  // namespace calor::app
