// The spectral solver over MPI ranks: FFTW-MPI slabs along the outermost axis.
//
// Why slabs, and not calor's MpiDomain blocks: the spectral method needs no halo exchange, only
// global transforms, and FFTW-MPI transforms slabs natively (its transposes are the only
// communication). Each rank builds its own slab of the initial state and of the sources directly
// (apply_initial takes an origin), so nothing is redistributed on the way in; the spectral data
// stay in FFTW's transposed layout (FFTW_MPI_TRANSPOSED_OUT / _IN saves one global transpose per
// transform); and the result is a slab that is one contiguous piece of the dense x-fastest global
// field, so gather() is a single MPI_Gatherv and stats() a reduction. Converting to MpiDomain
// blocks would add an all-to-all each way and buy nothing: nothing downstream needs blocks.

#include "calor/error.hpp"
#include "calor/spectral.hpp"
#include "spectral/plans.hpp"

#if defined(CALOR_HAVE_FFTW_MPI)

// FFTW's MPI interface takes an MPI_Comm: the one file outside src/parallel/ that sees <mpi.h>.
#include <fftw3-mpi.h>

#include "parallel/mpi_comm.hpp"

#include <algorithm>
#include <chrono>
#include <climits>

#include "calor/machine.hpp"

namespace calor {

namespace detail {

namespace {

// fftw_mpi_init once, after fftw_init_threads (which lock_fftw_planner has done): FFTW's order.
void ensure_fftw_mpi() {
  static bool done = false;
  if (!done) {
    fftw_mpi_init();
    done = true;
  }
}

// Threads inside an MPI process need MPI_THREAD_FUNNELED at least (FFTW's threads never call
// MPI themselves).
int usable_threads(int threads) {
  int provided = MPI_THREAD_SINGLE;
  MPI_Query_thread(&provided);
  return provided >= MPI_THREAD_FUNNELED ? threads : 1;
}

class MpiSlabPlans final : public FftPlans {
 public:
  MpiSlabPlans(const Grid& g, const std::array<FftKind, 3>& k, int nthreads, FftPlanning planning,
               const Comm& ranks)
      : ranks_(ranks), grid_(g) {
    MPI_Comm_dup(mpi_comm(ranks), &comm_);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    kinds = k;
    threads = usable_threads(nthreads);
    complex = k[0] == FftKind::dft_half;
    const int d = g.dim;
    std::vector<ptrdiff_t> n(static_cast<std::size_t>(d)), ns(n.size());
    std::vector<fftw_r2r_kind> fw(n.size(), FFTW_R2HC), bw(n.size(), FFTW_HC2R);
    for (int i = 0; i < d; ++i) {  // C order: the outermost axis first
      const int a = d - 1 - i;
      const auto u = static_cast<std::size_t>(i);
      n[u] = g.n[a];
      ns[u] = (a == 0 && complex) ? g.n[0] / 2 + 1 : g.n[a];
      if (k[a] == FftKind::dst1) fw[u] = bw[u] = FFTW_RODFT00;
    }

    auto lock = lock_fftw_planner();
    ensure_fftw_mpi();
    // For r2c the distribution is that of the complex array (sizes in complex numbers); for r2r
    // that of the real array (sizes in doubles).
    ptrdiff_t ln0 = 0, s0 = 0, ln1 = 0, s1 = 0;
    const ptrdiff_t alloc =
        fftw_mpi_local_size_many_transposed(d, ns.data(), 1, FFTW_MPI_DEFAULT_BLOCK,
                                            FFTW_MPI_DEFAULT_BLOCK, comm_, &ln0, &s0, &ln1, &s1);
    const ptrdiff_t values = std::max<ptrdiff_t>(complex ? 2 * alloc : alloc, 1);
    buffer = fftw_alloc_real(static_cast<std::size_t>(values));
    if (buffer == nullptr)
      throw Error("cannot allocate " + std::to_string(values * 8 / (1 << 20)) +
                  " MiB for the spectral transform");
    std::fill(buffer, buffer + values, 0.0);

    real_axes.push_back({d - 1, n[0], s0, ln0});
    for (int i = 1; i < d; ++i)
      real_axes.push_back(
          {d - 1 - i, n[static_cast<std::size_t>(i)], 0, n[static_cast<std::size_t>(i)]});
    real_pitch = complex ? 2 * ns.back() : n.back();
    // Transposed output: the first two axes swapped, distributed along the (old) second.
    spec_axes.push_back({d - 2, ns[1], s1, ln1});
    spec_axes.push_back({d - 1, ns[0], 0, ns[0]});
    for (int i = 2; i < d; ++i)
      spec_axes.push_back(
          {d - 1 - i, ns[static_cast<std::size_t>(i)], 0, ns[static_cast<std::size_t>(i)]});
    description = describe_kinds(d, k) + ", FFTW-MPI slabs";

    fftw_plan_with_nthreads(threads);
    const unsigned flags = fftw_planner_flags(planning);
    const auto t0 = std::chrono::steady_clock::now();
    if (complex) {
      auto* c = reinterpret_cast<fftw_complex*>(buffer);
      forward_plan =
          fftw_mpi_plan_dft_r2c(d, n.data(), buffer, c, comm_, flags | FFTW_MPI_TRANSPOSED_OUT);
      backward_plan =
          fftw_mpi_plan_dft_c2r(d, n.data(), c, buffer, comm_, flags | FFTW_MPI_TRANSPOSED_IN);
    } else {
      forward_plan = fftw_mpi_plan_r2r(d, n.data(), buffer, buffer, comm_, fw.data(),
                                       flags | FFTW_MPI_TRANSPOSED_OUT);
      backward_plan = fftw_mpi_plan_r2r(d, n.data(), buffer, buffer, comm_, bw.data(),
                                        flags | FFTW_MPI_TRANSPOSED_IN);
    }
    planning_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (forward_plan == nullptr || backward_plan == nullptr)
      throw Error("FFTW-MPI could not plan the " + description + " transform");

    // This rank's slab of the global grid, for gather().
    box_ = Box::of(g);
    box_.low[d - 1] = static_cast<index_t>(s0);
    box_.high[d - 1] = static_cast<index_t>(s0 + ln0);
  }

  ~MpiSlabPlans() override {
    // Destroying an FFTW-MPI plan frees its communicators, which MPI forbids after
    // MPI_Finalize: a solver outliving MPI leaks its plans instead of aborting the job.
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) {
      {
        auto lock = lock_fftw_planner();  // collective, and before the communicator goes
        if (forward_plan != nullptr) fftw_destroy_plan(forward_plan);
        if (backward_plan != nullptr) fftw_destroy_plan(backward_plan);
      }
      MPI_Comm_free(&comm_);
    }
    forward_plan = backward_plan = nullptr;
  }
  MpiSlabPlans(const MpiSlabPlans&) = delete;
  MpiSlabPlans& operator=(const MpiSlabPlans&) = delete;

  [[nodiscard]] std::vector<double> gather(const std::vector<double>& local) const override {
    return ranks_.gather(box_, local, grid_);
  }
  [[nodiscard]] StatsAccumulator reduce(const StatsAccumulator& local) const override {
    return ranks_.reduce(local);
  }
  [[nodiscard]] bool any(bool v) const override { return ranks_.max(v ? 1.0 : 0.0) > 0; }
  [[nodiscard]] int processes() const override { return size_; }

 private:
  Comm ranks_;
  Grid grid_;
  Box box_;
  MPI_Comm comm_ = MPI_COMM_NULL;  // FFTW-MPI's own copy of the ranks' communicator
  int rank_ = 0, size_ = 1;
};

// 1D under MPI: every rank transforms the whole line (FFTW-MPI has no parallel 1D real
// transforms, and a line is small); rank 0's copy is the result.
class MpiReplicatedPlans final : public FftPlans {
 public:
  MpiReplicatedPlans(std::unique_ptr<FftPlans> serial, const Comm& ranks)
      : inner_(std::move(serial)), rank_(ranks.rank()), size_(ranks.size()) {
    buffer = inner_->buffer;  // borrowed: inner_ frees it
    real_axes = inner_->real_axes;
    real_pitch = inner_->real_pitch;
    spec_axes = inner_->spec_axes;
    complex = inner_->complex;
    kinds = inner_->kinds;
    description = inner_->description + ", the whole line on each rank";
    threads = inner_->threads;
    planning_seconds = inner_->planning_seconds;
  }
  ~MpiReplicatedPlans() override { buffer = nullptr; }
  MpiReplicatedPlans(const MpiReplicatedPlans&) = delete;
  MpiReplicatedPlans& operator=(const MpiReplicatedPlans&) = delete;

  void forward() override { inner_->forward(); }
  void backward() override { inner_->backward(); }
  [[nodiscard]] std::vector<double> gather(const std::vector<double>& local) const override {
    return rank_ == 0 ? local : std::vector<double>{};
  }
  // Every rank holds the whole field: its own statistics are the global ones.
  [[nodiscard]] StatsAccumulator reduce(const StatsAccumulator& local) const override {
    return local;
  }
  [[nodiscard]] int processes() const override { return size_; }

 private:
  std::unique_ptr<FftPlans> inner_;
  int rank_ = 0, size_ = 1;
};

}  // namespace

std::unique_ptr<FftPlans> make_mpi_fft_plans(const Grid& g, const std::array<FftKind, 3>& kinds,
                                             int threads, FftPlanning planning, const Comm& ranks) {
  if (g.dim == 1)
    return std::make_unique<MpiReplicatedPlans>(
        make_serial_fft_plans(g, kinds, usable_threads(threads), planning), ranks);
  return std::make_unique<MpiSlabPlans>(g, kinds, threads, planning, ranks);
}

}  // namespace detail

bool import_fft_wisdom(const std::string& path, const Comm& ranks) {
  if (ranks.size() == 1) return import_fft_wisdom(path);
  {
    auto lock = detail::lock_fftw_planner();
    detail::ensure_fftw_mpi();  // before importing wisdom that may hold MPI plans
  }
  // Rank 0 reads the file; every rank learns whether it could, and why not.
  bool found = false;
  std::string why;
  if (ranks.root()) try {
      found = import_fft_wisdom(path);
    } catch (const Error& e) {
      why = e.what();
    }
  ranks.agree_or_throw(why);
  found = ranks.max(found ? 1.0 : 0.0) > 0;
  if (found) {
    auto lock = detail::lock_fftw_planner();
    fftw_mpi_broadcast_wisdom(mpi_comm(ranks));
  }
  return found;
}

void export_fft_wisdom(const std::string& path, const Comm& ranks) {
  if (ranks.size() == 1) return export_fft_wisdom(path);
  {
    auto lock = detail::lock_fftw_planner();
    detail::ensure_fftw_mpi();
    fftw_mpi_gather_wisdom(mpi_comm(ranks));
  }
  std::string why;
  if (ranks.root()) try {
      export_fft_wisdom(path);
    } catch (const Error& e) {
      why = e.what();
    }
  ranks.agree_or_throw(why);
}

}  // namespace calor

#elif defined(CALOR_HAVE_FFTW)  // FFTW without its MPI library: one process only.

namespace calor {

namespace {
[[noreturn]] void no_fftw_mpi() {
  throw Error(
      "this calor was built without FFTW's MPI library: run the spectral method on one "
      "process, or install libfftw3-mpi-dev and rebuild");
}
}  // namespace

std::unique_ptr<FftPlans> detail::make_mpi_fft_plans(const Grid&, const std::array<FftKind, 3>&,
                                                     int, FftPlanning, const Comm&) {
  no_fftw_mpi();
}

bool import_fft_wisdom(const std::string& path, const Comm& ranks) {
  if (ranks.size() > 1) no_fftw_mpi();
  return import_fft_wisdom(path);
}

void export_fft_wisdom(const std::string& path, const Comm& ranks) {
  if (ranks.size() > 1) no_fftw_mpi();
  export_fft_wisdom(path);
}

}  // namespace calor

#endif
