#pragma once
/// \file state.hpp
/// What outputs, health checks and statistics see of a run at one step: the problem, the step
/// and its time, and this process's block of the field in host memory. Never the solver, so
/// every method (stencil or spectral) and every memory space reaches them the same way.

#include <cstdint>
#include <vector>

#include "calor/box.hpp"
#include "calor/comm.hpp"
#include "calor/problem.hpp"
#include "calor/stats.hpp"

namespace calor {

/// A read-only view of one step of a run.
struct State {
  const Problem* problem = nullptr;
  std::int64_t step = 0;
  double time = 0;
  Box box;                        ///< the global cells this process holds
  const double* cells = nullptr;  ///< host memory; global cell box.low is cells[0]
  index_t stride_y = 0;           ///< elements between neighbours along y (x is contiguous)
  index_t stride_z = 0;           ///< elements between neighbours along z
  const Comm* comm = nullptr;     ///< the processes holding the other blocks
  /// Every process holds the whole field (the spectral method in 1D under MPI): statistics are
  /// this process's own, not summed over the processes.
  bool replicated = false;

  /// The value of local cell (i, j, k), 0 <= i < box.size(0) and so on.
  [[nodiscard]] double at(index_t i, index_t j = 0, index_t k = 0) const {
    return cells[i + stride_y * j + stride_z * k];
  }
  /// This process's block, dense and x fastest.
  [[nodiscard]] std::vector<double> block() const;
  /// The whole global interior, dense and x fastest, on rank 0; empty elsewhere (collective).
  [[nodiscard]] std::vector<double> gather() const;
  /// Heat, min, max and L2 of the global interior (collective).
  [[nodiscard]] Stats stats() const;
  /// A view of a dense, x-fastest block covering `box`.
  static State dense(const Problem& p, std::int64_t step, const Box& box, const double* cells,
                     const Comm& comm);
};

}  // namespace calor
