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
};

}  // namespace calor
