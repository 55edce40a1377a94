#pragma once
/// \file domain.hpp
/// The part of the global grid one process owns, and how processes combine their results. One
/// process owns everything (WholeDomain); under MPI each rank owns a block (MpiDomain).

#include <memory>
#include <string>
#include <vector>

#include "calor/boundary.hpp"
#include "calor/box.hpp"
#include "calor/halo.hpp"
#include "calor/stats.hpp"

namespace calor {

/// Where this process sits in the global problem.
class Domain {
 public:
  virtual ~Domain() = default;
  /// The global cells this process owns.
  [[nodiscard]] virtual Box box() const = 0;
  /// The halo filler for fields of this process's box.
  [[nodiscard]] virtual std::unique_ptr<Halo> make_halo(const Boundaries& bc) const = 0;
  /// Combines every process's partial reduction (the result is the same on every process).
  [[nodiscard]] virtual StatsAccumulator reduce(const StatsAccumulator& local) const = 0;
  /// Assembles the global interior, dense and x fastest, on process 0 (others get an empty vector).
  [[nodiscard]] virtual std::vector<double> gather(const Field& local) const = 0;
  [[nodiscard]] virtual int rank() const { return 0; }
  [[nodiscard]] virtual int size() const { return 1; }
  /// E.g. "1 process" or "6 ranks as 3 x 2".
  [[nodiscard]] virtual std::string describe() const { return "1 process"; }
  /// The thinnest block along `axis` over all processes: no halo may be wider than this.
  [[nodiscard]] virtual index_t min_block(int axis) const { return box().size(axis); }
  /// Waits for every process (collective).
  virtual void barrier() const {}
  /// The largest `v` over the processes (collective), e.g. the wall time of the slowest.
  [[nodiscard]] virtual double max_over_ranks(double v) const { return v; }
};

/// A single process owning the whole grid; the halo comes from the boundary conditions.
class WholeDomain final : public Domain {
 public:
  explicit WholeDomain(const Grid& g) : box_(Box::of(g)) {}
  [[nodiscard]] Box box() const override { return box_; }
  [[nodiscard]] std::unique_ptr<Halo> make_halo(const Boundaries& bc) const override {
    return std::make_unique<BoundaryHalo>(bc);
  }
  [[nodiscard]] StatsAccumulator reduce(const StatsAccumulator& local) const override {
    return local;
  }
  [[nodiscard]] std::vector<double> gather(const Field& local) const override {
    std::vector<double> v(static_cast<std::size_t>(local.grid().cells()));
    local.copy_interior_to(v.data());
    return v;
  }

 private:
  Box box_;
};

}  // namespace calor
