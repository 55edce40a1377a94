#pragma once
// Fixtures shared by the tests: small problems built from presets, and field comparison.

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "calor/backend.hpp"
#include "calor/config.hpp"
#include "calor/solver.hpp"

namespace calor::test {

/// A problem from TOML text plus `--set`-style overrides, as the CLI would build it.
inline Problem problem(const std::string& toml, const std::vector<Override>& o = {}) {
  return load_config(toml, "test.toml", o).problem;
}

/// Runs `p` to completion with `backend` and returns the solver.
inline Solver solve(const Problem& p, const std::string& backend = "serial") {
  Solver s(p, make_backend(backend));
  s.step(p.steps);
  return s;
}

/// The interior as a dense vector (x fastest).
inline std::vector<double> interior(const Field& f) {
  std::vector<double> v(static_cast<std::size_t>(f.grid().cells()));
  f.copy_interior_to(v.data());
  return v;
}

/// True when the two fields' interiors are identical bit for bit; reports the first difference.
inline ::testing::AssertionResult same_bits(const std::vector<double>& a,
                                            const std::vector<double>& b) {
  if (a.size() != b.size())
    return ::testing::AssertionFailure() << "sizes differ: " << a.size() << " vs " << b.size();
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(double)) != 0)
      return ::testing::AssertionFailure()
             << "first difference at flat index " << i << ": " << a[i] << " vs " << b[i];
  return ::testing::AssertionSuccess();
}

}  // namespace calor::test
