#pragma once
// Domain decomposition over MPI ranks: a Cartesian process grid, one block per rank, halos
// exchanged with the neighbours. Private to the parallel wing (and the MPI tests); built only
// with MPI (CALOR_HAVE_MPI). Comm::domain() hands it out as a calor::Domain.

#include <mpi.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "calor/domain.hpp"

namespace calor {

/// Combines every rank's partial statistics in rank order, on every rank of `comm`: the same
/// answer everywhere, whatever the decomposition's timing.
StatsAccumulator reduce_in_rank_order(const StatsAccumulator& local, MPI_Comm comm);

/// Assembles every rank's dense block (x fastest, covering its `mine`) into the dense global
/// interior of `g` on rank 0 of `comm`; other ranks get an empty vector (collective).
std::vector<double> gather_blocks(MPI_Comm comm, const Box& mine, const std::vector<double>& block,
                                  const Grid& g);

/// One rank's block of a grid split over a Cartesian process grid.

class MpiDomain final : public Domain {
 public:
  /// Splits `g` over the ranks of `comm` with MPI_Dims_create and MPI_Cart_create (periodic where
  /// `bc` is), blocks differing by at most one cell (the remainder going to the first ranks).
  /// Throws calor::Error, on every rank alike, naming the sizes if a block would be thinner than
  /// `halo` cells.
  MpiDomain(const Grid& g, const Boundaries& bc, MPI_Comm comm, int halo = 1);
  ~MpiDomain() override;
  MpiDomain(const MpiDomain&) = delete;
  MpiDomain& operator=(const MpiDomain&) = delete;

  [[nodiscard]] Box box() const override { return boxes_[static_cast<std::size_t>(rank_)]; }
  [[nodiscard]] std::unique_ptr<Halo> make_halo(const Boundaries& bc) const override;
  [[nodiscard]] StatsAccumulator reduce(const StatsAccumulator& local) const override;
  [[nodiscard]] std::vector<double> gather(const Field& local) const override;
  [[nodiscard]] int rank() const override { return rank_; }
  [[nodiscard]] int size() const override { return size_; }
  [[nodiscard]] std::string describe() const override;
  void barrier() const override { MPI_Barrier(cart_); }
  [[nodiscard]] index_t min_block(int axis) const override {
    index_t m = boxes_.front().size(axis);
    for (const Box& b : boxes_)
      m = std::min(m, b.size(axis));
    return m;
  }
  [[nodiscard]] double max_over_ranks(double v) const override {
    MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_MAX, cart_);
    return v;
  }

  /// The Cartesian communicator.
  [[nodiscard]] MPI_Comm comm() const { return cart_; }
  /// Ranks along each grid axis (1 on inactive axes).
  [[nodiscard]] const std::array<int, 3>& ranks_per_axis() const { return dims_; }
  /// The neighbour across face (axis, side), or MPI_PROC_NULL at a non-periodic boundary.
  [[nodiscard]] int neighbour(int axis, int side) const { return nbr_[axis][side]; }
  /// Every rank's box, indexed by rank.
  [[nodiscard]] const std::vector<Box>& boxes() const { return boxes_; }

 private:
  Grid grid_;
  MPI_Comm cart_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::array<int, 3> dims_{1, 1, 1};
  std::array<std::array<int, 2>, 3> nbr_{};
  std::vector<Box> boxes_;
};

}  // namespace calor
