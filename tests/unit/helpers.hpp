#pragma once
// Fixtures shared by the tests: small problems built from presets, and field comparison.

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "calor/backend.hpp"
#include "calor/comm.hpp"
#include "calor/config.hpp"
#include "calor/output.hpp"
#include "calor/solver.hpp"
#include "calor/state.hpp"

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

/// A field of `g`'s cells, dense and x fastest, drawn uniformly from [lo, hi) by a generator
/// seeded with `seed`: the same values for every backend and run.
inline std::vector<double> random_field(const Grid& g, unsigned seed, double lo = -1.0,
                                        double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(static_cast<std::size_t>(g.cells()));
  for (double& x : v)
    x = u(rng);
  return v;
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

/// One process, for the state views below.
inline const Comm& one_process() {
  static const Comm c;
  return c;
}

/// What an output sees of a Solver: its block of the field at its step (host memory).
inline State state_of(const Solver& s, const Comm& comm = one_process()) {
  State st;
  st.problem = &s.problem();
  st.step = s.step_count();
  st.time = s.time();
  st.box = s.domain().box();
  st.cells = s.field().raw() + s.field().offset(0, 0, 0);
  st.stride_y = s.field().stride_y();
  st.stride_z = s.field().stride_z();
  st.comm = &comm;
  return st;
}

/// Writes a checkpoint of a Solver (collective over `comm`).
inline void write_checkpoint(const Solver& s, const std::string& path,
                             const Comm& comm = one_process()) {
  calor::write_checkpoint(state_of(s, comm), path);
}

/// Loads a checkpoint into a Solver, as a restarted run does (collective over `comm`).
inline void restore_checkpoint(Solver& s, const std::string& path, bool force,
                               const Comm& comm = one_process()) {
  const Restored r = read_checkpoint(path, state_of(s, comm), force);
  s.field().copy_interior_from(r.block.data());
  s.restart_at(r.step);
}

}  // namespace calor::test
