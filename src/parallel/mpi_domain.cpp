#include "parallel/mpi_domain.hpp"

#include <array>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "calor/comm.hpp"
#include "calor/error.hpp"

namespace calor {

namespace {

// Fills the halo of a block from its neighbours, axis by axis: each axis exchanges the full
// extent of the other axes, halos included, so corners arrive right, as the serial fill order
// makes them. Faces without a neighbour get the physical boundary condition. Requests are
// persistent, one set per field buffer (the solver alternates between two).
class MpiHalo final : public Halo {
 public:
  MpiHalo(const MpiDomain& d, const Boundaries& bc) : d_(d), bc_(bc) {
    // CALOR_OVERLAP=0 turns the overlap off, to measure what it gains.
    const char* env = std::getenv("CALOR_OVERLAP");
    overlap_ = env == nullptr || std::string(env) != "0";
  }
  ~MpiHalo() override {
    for (auto& [ptr, set] : sets_) {
      for (auto& axis : set.requests)
        for (MPI_Request& r : axis)
          if (r != MPI_REQUEST_NULL) MPI_Request_free(&r);
    }
    for (auto& [ptr, faces] : face_sets_)
      for (MPI_Request& r : faces)
        if (r != MPI_REQUEST_NULL) MPI_Request_free(&r);
    for (MPI_Datatype& t : types_)
      if (t != MPI_DATATYPE_NULL) MPI_Type_free(&t);
    for (MPI_Datatype& t : face_types_)
      if (t != MPI_DATATYPE_NULL) MPI_Type_free(&t);
  }

  [[nodiscard]] bool exchanged(int axis, int side) const override {
    return d_.neighbour(axis, side) != MPI_PROC_NULL;
  }
  [[nodiscard]] const Boundaries& boundaries() const override { return bc_; }
  void set_boundaries(const Boundaries& bc) override { bc_ = bc; }
  [[nodiscard]] bool overlaps() const override { return overlap_; }

  // Overlapped: the physical faces first (they read only interior cells and write their own
  // halo, corners included, before any transfer touches the field), then every axis's first
  // halo layer at once, each slab spanning the interior of the other axes only, so no two
  // transfers share a cell.
  void begin_update(Field& f) override {
    const Grid& g = f.grid();
    for (int axis = 0; axis < g.dim; ++axis)
      for (int side = 0; side < 2; ++side)
        if (d_.neighbour(axis, side) == MPI_PROC_NULL)
          fill_halo_face(bc_, g, f, axis, side, conductivity_);
    pending_ = &face_requests_for(f);
    MPI_Startall(static_cast<int>(pending_->size()), pending_->data());
  }
  void progress() override {
    if (pending_ == nullptr) return;
    int done = 0;
    MPI_Testall(static_cast<int>(pending_->size()), pending_->data(), &done, MPI_STATUSES_IGNORE);
  }
  void end_update(Field& /*f*/) override {
    if (pending_ == nullptr) return;
    MPI_Waitall(static_cast<int>(pending_->size()), pending_->data(), MPI_STATUSES_IGNORE);
    pending_ = nullptr;
  }

  // The packed exchange: one message per exchanged face, buffers owned by the backend.
  [[nodiscard]] bool sends_layers() const override { return true; }
  [[nodiscard]] bool reads_device_memory() const override { return Comm::reads_device_memory(); }
  void begin_layers(const LayerBuffers& b) override {
    layer_requests_.clear();
    for (int axis = 0; axis < 3; ++axis)
      for (int side = 0; side < 2; ++side) {
        const int nbr = d_.neighbour(axis, side);
        if (nbr == MPI_PROC_NULL) continue;
        const int count = static_cast<int>(b.count[axis][side]);
        // Tag: the direction the data travels (towards lower coordinates: 16 + 2 axis).
        const int away = 16 + 2 * axis + side, towards = 16 + 2 * axis + (1 - side);
        layer_requests_.push_back(MPI_REQUEST_NULL);
        MPI_Irecv(b.recv[axis][side], count, MPI_DOUBLE, nbr, towards, d_.comm(),
                  &layer_requests_.back());
        layer_requests_.push_back(MPI_REQUEST_NULL);
        MPI_Isend(b.send[axis][side], count, MPI_DOUBLE, nbr, away, d_.comm(),
                  &layer_requests_.back());
      }
  }
  void end_layers() override {
    MPI_Waitall(static_cast<int>(layer_requests_.size()), layer_requests_.data(),
                MPI_STATUSES_IGNORE);
    layer_requests_.clear();
  }

  void update(Field& f) override {
    RequestSet& set = requests_for(f);
    const Grid& g = f.grid();
    for (int axis = 0; axis < g.dim; ++axis) {
      auto& req = set.requests[axis];
      MPI_Startall(4, req.data());
      MPI_Waitall(4, req.data(), MPI_STATUSES_IGNORE);
      for (int side = 0; side < 2; ++side)
        if (d_.neighbour(axis, side) == MPI_PROC_NULL)
          fill_halo_face(bc_, g, f, axis, side, conductivity_);
    }
  }

 private:
  struct RequestSet {
    // Per axis: receive low, receive high, send low, send high.
    std::array<std::array<MPI_Request, 4>, 3> requests{};
  };

  // The field's allocated extents in C order (z, y, x): x rows include their padding.
  static std::array<int, 3> extents(const Field& f) {
    return {static_cast<int>(f.extent(2)), static_cast<int>(f.extent(1)),
            static_cast<int>(f.extent(0))};
  }

  // The four slabs of one axis as subarray types of a field shaped like `f`.
  void make_types(const Field& f) {
    const std::array<int, 3> sizes = extents(f);
    for (int axis = 0; axis < 3; ++axis) {
      const int c = 2 - axis;  // C-order position of `axis`
      const int w = static_cast<int>(f.halo(axis)), n = static_cast<int>(f.n(axis));
      const int o = static_cast<int>(f.origin(axis));
      // recv low, recv high, send low, send high
      const int starts_along[4] = {o - w, o + n, o, o + n - w};
      for (int k = 0; k < 4; ++k) {
        int sub[3], start[3];
        for (int d = 0; d < 3; ++d) {  // the other axes: interior and halo, not the padding
          const int a = 2 - d;
          sub[d] = static_cast<int>(f.n(a) + 2 * f.halo(a));
          start[d] = static_cast<int>(f.origin(a) - f.halo(a));
        }
        sub[c] = w > 0 ? w : 1;
        start[c] = w > 0 ? starts_along[k] : o;
        MPI_Datatype t;
        MPI_Type_create_subarray(3, sizes.data(), sub, start, MPI_ORDER_C, MPI_DOUBLE, &t);
        MPI_Type_commit(&t);
        types_[static_cast<std::size_t>(4 * axis + k)] = t;
      }
    }
  }

  // The first halo layer and the first interior layer of each face, over the interior extent
  // of the other axes: recv low, recv high, send low, send high per axis.
  void make_face_types(const Field& f) {
    const std::array<int, 3> sizes = extents(f);
    for (int axis = 0; axis < 3; ++axis) {
      const int c = 2 - axis;
      const int w = static_cast<int>(f.halo(axis)), n = static_cast<int>(f.n(axis));
      const int o = static_cast<int>(f.origin(axis));
      const int starts_along[4] = {o - 1, o + n, o, o + n - 1};
      for (int k = 0; k < 4; ++k) {
        int sub[3], start[3];
        for (int d = 0; d < 3; ++d) {
          const int a = 2 - d;
          sub[d] = static_cast<int>(f.n(a));
          start[d] = static_cast<int>(f.origin(a));
        }
        sub[c] = 1;
        start[c] = w > 0 ? starts_along[k] : o;
        MPI_Datatype t;
        MPI_Type_create_subarray(3, sizes.data(), sub, start, MPI_ORDER_C, MPI_DOUBLE, &t);
        MPI_Type_commit(&t);
        face_types_[static_cast<std::size_t>(4 * axis + k)] = t;
      }
    }
  }

  std::vector<MPI_Request>& face_requests_for(Field& f) {
    auto it = face_sets_.find(f.raw());
    if (it != face_sets_.end()) return it->second;
    if (face_types_[0] == MPI_DATATYPE_NULL) make_face_types(f);
    std::vector<MPI_Request>& r = face_sets_[f.raw()];
    for (int axis = 0; axis < f.grid().dim; ++axis) {
      const int lo = d_.neighbour(axis, 0), hi = d_.neighbour(axis, 1);
      const auto t = [&](int k) { return face_types_[static_cast<std::size_t>(4 * axis + k)]; };
      // Tags as in update(), offset so that the two kinds of exchange never match each other.
      const int down = 8 + 2 * axis, up = 8 + 2 * axis + 1;
      r.resize(r.size() + 4, MPI_REQUEST_NULL);
      MPI_Request* q = r.data() + r.size() - 4;
      MPI_Recv_init(f.raw(), 1, t(0), lo, up, d_.comm(), &q[0]);
      MPI_Recv_init(f.raw(), 1, t(1), hi, down, d_.comm(), &q[1]);
      MPI_Send_init(f.raw(), 1, t(2), lo, down, d_.comm(), &q[2]);
      MPI_Send_init(f.raw(), 1, t(3), hi, up, d_.comm(), &q[3]);
    }
    return r;
  }

  RequestSet& requests_for(Field& f) {
    auto it = sets_.find(f.raw());
    if (it != sets_.end()) return it->second;
    if (types_[0] == MPI_DATATYPE_NULL) make_types(f);
    RequestSet& set = sets_[f.raw()];
    for (int axis = 0; axis < 3; ++axis) {
      auto& r = set.requests[axis];
      r.fill(MPI_REQUEST_NULL);
      if (axis >= f.grid().dim) continue;
      const int lo = d_.neighbour(axis, 0), hi = d_.neighbour(axis, 1);
      const auto t = [&](int k) { return types_[static_cast<std::size_t>(4 * axis + k)]; };
      // Data travelling towards lower coordinates has tag 2*axis, towards higher 2*axis + 1.
      MPI_Recv_init(f.raw(), 1, t(0), lo, 2 * axis + 1, d_.comm(), &r[0]);
      MPI_Recv_init(f.raw(), 1, t(1), hi, 2 * axis, d_.comm(), &r[1]);
      MPI_Send_init(f.raw(), 1, t(2), lo, 2 * axis, d_.comm(), &r[2]);
      MPI_Send_init(f.raw(), 1, t(3), hi, 2 * axis + 1, d_.comm(), &r[3]);
    }
    return set;
  }

  const MpiDomain& d_;
  Boundaries bc_;
  std::map<const double*, RequestSet> sets_;
  std::map<const double*, std::vector<MPI_Request>> face_sets_;
  std::vector<MPI_Request>* pending_ = nullptr;
  std::vector<MPI_Request> layer_requests_;
  bool overlap_ = true;
  std::array<MPI_Datatype, 12> face_types_{MPI_DATATYPE_NULL, MPI_DATATYPE_NULL, MPI_DATATYPE_NULL,
                                           MPI_DATATYPE_NULL, MPI_DATATYPE_NULL, MPI_DATATYPE_NULL,
                                           MPI_DATATYPE_NULL, MPI_DATATYPE_NULL, MPI_DATATYPE_NULL,
                                           MPI_DATATYPE_NULL, MPI_DATATYPE_NULL, MPI_DATATYPE_NULL};
  std::array<MPI_Datatype, 12> types_{MPI_DATATYPE_NULL, MPI_DATATYPE_NULL, MPI_DATATYPE_NULL,
                                      MPI_DATATYPE_NULL, MPI_DATATYPE_NULL, MPI_DATATYPE_NULL,
                                      MPI_DATATYPE_NULL, MPI_DATATYPE_NULL, MPI_DATATYPE_NULL,
                                      MPI_DATATYPE_NULL, MPI_DATATYPE_NULL, MPI_DATATYPE_NULL};
};

}  // namespace

MpiDomain::MpiDomain(const Grid& g, const Boundaries& bc, MPI_Comm comm, int halo) : grid_(g) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  // MPI_Dims_create orders its answer largest first; the largest goes to the slowest axis, so
  // that the most frequent neighbours exchange contiguous rows or planes.
  int dims[3] = {0, 0, 0}, periods[3] = {0, 0, 0};
  MPI_Dims_create(size, g.dim, dims);
  for (int d = 0; d < g.dim; ++d) {
    const int axis = g.dim - 1 - d;
    dims_[axis] = dims[d];
    periods[d] = bc.periodic(axis) ? 1 : 0;
  }
  for (int axis = 0; axis < g.dim; ++axis)
    if (g.n[axis] / dims_[axis] < std::max(halo, 1))
      throw Error("cannot split " + std::to_string(g.n[axis]) + " cells along " +
                  std::string(1, "xyz"[axis]) + " over " + std::to_string(dims_[axis]) +
                  " ranks: each block needs at least " + std::to_string(std::max(halo, 1)) +
                  " cell(s). Use fewer ranks (at most " +
                  std::to_string(g.n[axis] / std::max(halo, 1)) +
                  " along this axis) or a larger grid");
  MPI_Cart_create(comm, g.dim, dims, periods, /*reorder=*/0, &cart_);
  MPI_Comm_rank(cart_, &rank_);
  MPI_Comm_size(cart_, &size_);
  for (auto& a : nbr_)
    a = {MPI_PROC_NULL, MPI_PROC_NULL};
  for (int d = 0; d < g.dim; ++d) {
    const int axis = g.dim - 1 - d;
    MPI_Cart_shift(cart_, d, 1, &nbr_[axis][0], &nbr_[axis][1]);
  }
  boxes_.resize(static_cast<std::size_t>(size_));
  for (int r = 0; r < size_; ++r) {
    int coords[3] = {0, 0, 0};
    MPI_Cart_coords(cart_, r, g.dim, coords);
    Box b;
    for (int a = 0; a < 3; ++a) {
      if (a >= g.dim) continue;
      const auto range = block_range(g.n[a], dims_[a], coords[g.dim - 1 - a]);
      b.low[a] = range[0];
      b.high[a] = range[1];
    }
    boxes_[static_cast<std::size_t>(r)] = b;
  }
}

MpiDomain::~MpiDomain() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && cart_ != MPI_COMM_NULL) MPI_Comm_free(&cart_);
}

std::unique_ptr<Halo> MpiDomain::make_halo(const Boundaries& bc) const {
  return std::make_unique<MpiHalo>(*this, bc);
}

StatsAccumulator reduce_in_rank_order(const StatsAccumulator& local, MPI_Comm comm) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  const double mine[7] = {
      local.sum, local.sum_c, local.sq, local.sq_c, local.min, local.max, local.empty ? 1.0 : 0.0};
  std::vector<double> all(7 * static_cast<std::size_t>(size));
  MPI_Allgather(mine, 7, MPI_DOUBLE, all.data(), 7, MPI_DOUBLE, comm);
  StatsAccumulator total;
  for (int r = 0; r < size; ++r) {
    const double* p = all.data() + 7 * r;
    StatsAccumulator part;
    part.sum = p[0];
    part.sum_c = p[1];
    part.sq = p[2];
    part.sq_c = p[3];
    part.min = p[4];
    part.max = p[5];
    part.empty = p[6] != 0.0;
    total.merge(part);
  }
  return total;
}

StatsAccumulator MpiDomain::reduce(const StatsAccumulator& local) const {
  return reduce_in_rank_order(local, cart_);
}

std::vector<double> MpiDomain::gather(const Field& local) const {
  std::vector<double> mine(static_cast<std::size_t>(local.grid().cells()));
  local.copy_interior_to(mine.data());
  return gather_blocks(cart_, box(), mine, grid_);
}

std::vector<double> gather_blocks(MPI_Comm comm, const Box& mine, const std::vector<double>& block,
                                  const Grid& g) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const auto n = static_cast<std::size_t>(size);
  // Every rank's box, then every rank's block packed in rank order on rank 0.
  const long long corners[6] = {mine.low[0],  mine.low[1],  mine.low[2],
                                mine.high[0], mine.high[1], mine.high[2]};
  std::vector<long long> all(6 * n);
  MPI_Gather(corners, 6, MPI_LONG_LONG, all.data(), 6, MPI_LONG_LONG, 0, comm);
  std::vector<Box> boxes(n);
  std::vector<int> counts(n), displs(n);
  int total = 0;
  for (std::size_t r = 0; r < n && rank == 0; ++r) {
    for (int a = 0; a < 3; ++a) {
      boxes[r].low[a] = all[6 * r + static_cast<std::size_t>(a)];
      boxes[r].high[a] = all[6 * r + 3 + static_cast<std::size_t>(a)];
    }
    counts[r] = static_cast<int>(boxes[r].count());
    displs[r] = total;
    total += counts[r];
  }
  std::vector<double> packed(rank == 0 ? static_cast<std::size_t>(total) : 0);
  MPI_Gatherv(block.data(), static_cast<int>(block.size()), MPI_DOUBLE, packed.data(),
              counts.data(), displs.data(), MPI_DOUBLE, 0, comm);
  if (rank != 0) return {};
  std::vector<double> global(static_cast<std::size_t>(g.cells()));
  for (std::size_t r = 0; r < n; ++r) {
    const Box& b = boxes[r];
    const double* src = packed.data() + displs[r];
    for (index_t k = b.low[2]; k < b.high[2]; ++k)
      for (index_t j = b.low[1]; j < b.high[1]; ++j)
        for (index_t i = b.low[0]; i < b.high[0]; ++i)
          global[static_cast<std::size_t>(i + g.n[0] * (j + g.n[1] * k))] = *src++;
  }
  return global;
}

std::string MpiDomain::describe() const {
  std::string s = std::to_string(size_) + (size_ == 1 ? " rank" : " ranks");
  if (grid_.dim > 1) {
    s += " as ";
    for (int a = 0; a < grid_.dim; ++a)
      s += (a ? " x " : "") + std::to_string(dims_[a]);
  }
  return s;
}

}  // namespace calor
