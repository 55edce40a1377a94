#pragma once
// A method steps one problem: the stencil (a backend on fields with halos, decomposed over the
// ranks by a Domain) or the spectral solver (FFTW transforms, slabs over the ranks). The run loop
// (run.cpp) sees only this interface.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "calor/comm.hpp"
#include "calor/config.hpp"
#include "calor/field.hpp"
#include "calor/health.hpp"
#include "calor/state.hpp"

namespace calor {

class Method {
 public:
  virtual ~Method() = default;
  /// Takes `n` steps (collective).
  virtual void advance(std::int64_t n) = 0;
  [[nodiscard]] virtual std::int64_t step() const = 0;
  /// Steps per pass: chunks are whole multiples of it (collective).
  [[nodiscard]] virtual std::int64_t steps_per_pass() const = 0;
  /// This process's block of the field in host memory: the one way outputs, health checks and
  /// statistics read a field.
  [[nodiscard]] virtual State state() const = 0;
  /// Sets the field from this process's dense block and the step count (after a restart).
  virtual void load(const std::vector<double>& block, std::int64_t step) = 0;
  [[nodiscard]] virtual Stats stats() const = 0;
  /// This process's health check (check_field): empty, or what blew up where.
  [[nodiscard]] virtual std::string check_health() const { return check_field(state()); }
  [[nodiscard]] virtual std::vector<double> gather() const = 0;
  /// The backend's or mode's name, why it runs, and how it cut the grid.
  [[nodiscard]] virtual std::string engine() const = 0;
  [[nodiscard]] virtual std::string reason() const = 0;
  [[nodiscard]] virtual std::string plan() const { return {}; }
  [[nodiscard]] virtual std::string processes() const = 0;
  /// Host threads per process it steps with (the backend's: 1 for serial, simd or cuda).
  [[nodiscard]] virtual int threads() const = 0;
  /// Sets the boundary values and point-source energies of the coming steps from `p` (the same
  /// problem with other values): what a Python callable or a C++ caller changes between chunks.
  /// Methods that take all steps at once refuse (calor::Error).
  virtual void set_values(const Problem& p) = 0;
  /// The stencil's current field in host memory; nullptr for methods without one.
  [[nodiscard]] virtual Field* field() { return nullptr; }
  /// The stencil's current field in device memory; nullptr unless a device backend runs.
  [[nodiscard]] virtual Field* device_field() { return nullptr; }
};

/// The explicit stencil of `c` with threads per process `threads` (Comm::threads).
std::unique_ptr<Method> make_stencil_method(const Config& c, const Comm& comm, int threads);
/// The spectral method of `c`.
std::unique_ptr<Method> make_spectral_method(const Config& c, const Comm& comm, int threads);

/// A host view of a field's interior: its block `box` of `p`'s global grid at `step`.
State host_state(const Field& f, const Problem& p, std::int64_t step, const Box& box,
                 const Comm& comm);

}  // namespace calor
