#pragma once
/// \file error.hpp
/// The one exception type calor throws for user-facing failures.

#include <stdexcept>
#include <string>

namespace calor {

/// A failure the user can fix: the message names the problem, the offending value and the remedy.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  /// The same failure seen by every rank of a job: `rank` of `ranks` failed first.
  Error(const std::string& what, int rank, int ranks)
      : std::runtime_error(what), rank_(rank), ranks_(ranks) {}
  /// The rank that failed first, or -1 when the failure is this process's own.
  [[nodiscard]] int rank() const { return rank_; }
  /// The ranks of the job that agreed on this failure (1 without MPI).
  [[nodiscard]] int ranks() const { return ranks_; }

 private:
  int rank_ = -1, ranks_ = 1;
};

}  // namespace calor
