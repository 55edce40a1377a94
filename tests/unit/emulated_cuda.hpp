#pragma once
// The cuda backend's steps (cuda::DeviceSteps) with every launch run thread by thread on the
// CPU, block by block, out-of-range threads included: the very code the device runs, its
// launch geometry and its order, on host memory. Used by the unit tests (single process) and
// the MPI tests (the layers exchanged by the domain's halo, as on the device).
//
// The two streams are queues replayed as late as their events allow: `Order` says which one
// runs ahead whenever both could. A missing event shows up as wrong bits in one of the two
// orders (a layer packed before the update that writes it, a shell updated before its halo
// arrived), a wait that can never be met as a thrown deadlock.

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "calor/backend.hpp"
#include "calor/domain.hpp"
#include "cuda/kernels.hpp"

namespace calor::test {

/// Which stream runs first when both can; comm_first also runs each launch's threads last to
/// first (HostExec::launch).
enum class Order { compute_first, comm_first };

// Runs each launch's threads in order on the host, each stream's work when the host waits.
class HostExec {
 public:
  HostExec(const std::vector<SourceCell>* cells, Order order) : cells_(cells), order_(order) {}
  int launches = 0;

  const double* read(const std::shared_ptr<const Field>& f) { return f ? f->raw() : nullptr; }

  void faces(cuda::Stream s, const cuda::AxisFaces& f, const cuda::Launch& l, double* u) {
    launch(s, l, [f, u](index_t t1, index_t t2, index_t side) {
      cuda::axis_face_cell(f, u, t1, t2, side);
    });
  }
  template <class S>
  void sweep(cuda::Stream s, const cuda::SweepParams& p, const cuda::Launch& l, const double* in,
             double* out) {
    cuda::with_rows<S::dim>(l, [&](auto rows) {
      constexpr int R = decltype(rows)::value;
      launch(s, l, [p, in, out](index_t i, index_t j, index_t k) {
        cuda::sweep_column<S::dim, S::form, S::heat, R>(p, in, out, i, j, k);
      });
    });
  }
  void sources(cuda::Stream s, double* u) {
    enqueue(s, [cells = cells_, u] {
      for (const SourceCell& c : *cells)
        u[c.offset] += c.energy;
    });
  }
  void layer_out(cuda::Stream s, const cuda::FaceParams& f, const double* u, double* buf) {
    launch(s, cuda::face_launch(f),
           [f, u, buf](index_t t1, index_t t2, index_t) { cuda::layer_out(f, u, buf, 0, t1, t2); });
  }
  void layer_in(cuda::Stream s, const cuda::FaceParams& f, double* u, const double* buf) {
    launch(s, cuda::face_launch(f), [f, u, buf](index_t t1, index_t t2, index_t) {
      cuda::layer_in(f, u, buf, f.to_halo, t1, t2);
    });
  }
  cuda::LayerStore layers(index_t values) {
    for (std::vector<double>& b : memory_)
      b.assign(static_cast<std::size_t>(values), 0.0);
    return cuda::LayerStore{memory_[0].data(), memory_[1].data(), memory_[2].data(),
                            memory_[3].data()};
  }
  void copy(cuda::Stream s, double* to, const double* from, index_t values) {
    enqueue(s, [to, from, values] { std::copy(from, from + values, to); });
  }
  void record(cuda::Event e, cuda::Stream s) {
    const auto i = static_cast<std::size_t>(e);
    queue(s).push_back(Item{nullptr, static_cast<int>(i), -1, ++recorded_[i]});
  }
  void wait(cuda::Stream s, cuda::Event e) {
    const auto i = static_cast<std::size_t>(e);
    queue(s).push_back(Item{nullptr, -1, static_cast<int>(i), recorded_[i]});
  }
  void sync(cuda::Event e) {
    const auto i = static_cast<std::size_t>(e);
    run_until([&] { return done_[i] >= recorded_[i]; });
  }
  void finish() {
    run_until([&] { return queues_[0].empty() && queues_[1].empty(); });
  }

 private:
  // A launch, an event recorded (when done, it reaches generation `gen`), or a wait (until the
  // event has reached `gen`).
  struct Item {
    std::function<void()> run;
    int record = -1, wait = -1;
    std::uint64_t gen = 0;
  };

  std::deque<Item>& queue(cuda::Stream s) { return queues_[static_cast<std::size_t>(s)]; }
  void enqueue(cuda::Stream s, std::function<void()> f) {
    queue(s).push_back(Item{std::move(f), -1, -1, 0});
  }
  // Runs the threads block by block; comm_first runs them last to first, so that threads which
  // depend on running in order (an axis's two faces, say) show up as wrong bits in one order.
  template <class F>
  void launch(cuda::Stream s, const cuda::Launch& l, F f) {
    ++launches;
    const bool reversed = order_ == Order::comm_first;
    enqueue(s, [l, f, reversed] {
      const index_t blocks = index_t{l.grid[0]} * l.grid[1] * l.grid[2];
      const index_t threads = index_t{l.block[0]} * l.block[1] * l.block[2];
      for (index_t n = 0; n < blocks * threads; ++n) {
        const index_t t = reversed ? blocks * threads - 1 - n : n;
        const index_t b = t / threads, in = t % threads;
        const index_t bx = b % l.grid[0], by = b / l.grid[0] % l.grid[1],
                      bz = b / l.grid[0] / l.grid[1];
        const index_t tx = in % l.block[0], ty = in / l.block[0] % l.block[1],
                      tz = in / l.block[0] / l.block[1];
        f(bx * l.block[0] + tx, by * l.block[1] + ty, bz * l.block[2] + tz);
      }
    });
  }
  // Runs the head of stream `s` if it is not waiting: false if it cannot.
  bool step(std::size_t s) {
    if (queues_[s].empty()) return false;
    Item& it = queues_[s].front();
    if (it.wait >= 0 && done_[static_cast<std::size_t>(it.wait)] < it.gen) return false;
    if (it.run) it.run();
    if (it.record >= 0) {  // records of one event come in order: one stream records each
      std::uint64_t& done = done_[static_cast<std::size_t>(it.record)];
      if (it.gen < done) throw std::logic_error("emulated cuda: an event recorded on two streams");
      done = it.gen;
    }
    queues_[s].pop_front();
    return true;
  }
  template <class Done>
  void run_until(Done done) {
    const std::size_t first = order_ == Order::compute_first ? 0 : 1;
    while (!done())
      if (!step(first) && !step(1 - first))
        throw std::logic_error("emulated cuda: both streams wait for events never recorded");
  }

  const std::vector<SourceCell>* cells_;
  Order order_;
  std::array<std::deque<Item>, 2> queues_;
  std::array<std::uint64_t, cuda::kEvents> recorded_{}, done_{};
  std::array<std::vector<double>, 4> memory_;
};

// The cuda backend's steps with HostExec in place of kernel launches; `direct`: the layers go to
// MPI from the "device" buffers, as with a CUDA-aware MPI.
class EmulatedCuda final : public Backend {
 public:
  explicit EmulatedCuda(Order order = Order::compute_first, bool direct = false)
      : order_(order), direct_(direct) {}
  [[nodiscard]] std::string_view name() const override { return "emulated-cuda"; }
  // The row reduction's threads (whatever the number of rows), merged as on the device.
  [[nodiscard]] StatsAccumulator statistics(const Field& f) const override {
    const cuda::RowParams r = cuda::row_params(f);
    std::vector<StatsAccumulator> rows(static_cast<std::size_t>(r.n[1] * r.n[2]));
    const index_t threads = (r.n[1] * r.n[2] + 255) / 256 * 256;  // out-of-range ones too
    for (index_t t = 0; t < threads; ++t)
      cuda::row_stats(r, f.raw(), rows.data(), t);
    return cuda::merge_rows(rows);
  }
  void advance(const Scheme& scheme, Halo& halo, Field& cur, Field& next,
               std::int64_t steps) override {
    HostExec exec(&scheme.sources, order_);
    cuda::advance_on(exec, scheme, halo, cur, next, steps, direct_);
    launches += exec.launches;
  }
  int launches = 0;  ///< kernels launched, all advance() calls together

 private:
  Order order_;
  bool direct_;
};

// A single process whose periodic faces travel as packed layers, as an MPI rank's do when it is
// its own neighbour: what the face across the low side sends arrives at the high side. It lets
// the exchange path of the cuda backend (streams, pinned buffers, overlap) run without MPI, on
// the emulation here and on a device in scripts/gpu-check.sh.
class LoopbackHalo final : public Halo {
 public:
  explicit LoopbackHalo(Boundaries bc) : bc_(bc) {}
  void update(Field& f) override { fill_halo(bc_, f.grid(), f, conductivity_); }
  [[nodiscard]] bool exchanged(int axis, int /*side*/) const override { return bc_.periodic(axis); }
  [[nodiscard]] const Boundaries& boundaries() const override { return bc_; }
  void set_boundaries(const Boundaries& bc) override { bc_ = bc; }
  [[nodiscard]] bool overlaps() const override { return true; }
  [[nodiscard]] bool sends_layers() const override { return true; }
  void begin_layers(const LayerBuffers& b) override {
    for (int a = 0; a < 3; ++a)
      if (bc_.periodic(a))
        for (int s = 0; s < 2; ++s)
          std::copy(b.send[a][s], b.send[a][s] + b.count[a][s], b.recv[a][1 - s]);
  }

 private:
  Boundaries bc_;
};

class LoopbackDomain final : public Domain {
 public:
  explicit LoopbackDomain(const Grid& g) : whole_(g) {}
  [[nodiscard]] Box box() const override { return whole_.box(); }
  [[nodiscard]] std::unique_ptr<Halo> make_halo(const Boundaries& bc) const override {
    return std::make_unique<LoopbackHalo>(bc);
  }
  [[nodiscard]] StatsAccumulator reduce(const StatsAccumulator& local) const override {
    return local;
  }
  [[nodiscard]] std::vector<double> gather(const Field& local) const override {
    return whole_.gather(local);
  }

 private:
  WholeDomain whole_;
};

}  // namespace calor::test
