#include "calor/spectral.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <complex>
#include <cstring>
#include <fstream>
#include <numbers>

#include "calor/error.hpp"
#include "calor/field.hpp"
#include "calor/initial.hpp"
#include "calor/machine.hpp"

#if defined(CALOR_HAVE_FFTW)
#include <fftw3.h>
#include <omp.h>
#endif

namespace calor {

std::string_view to_string(SpectralMode m) {
  return m == SpectralMode::continuous ? "continuous" : "discrete";
}

SpectralMode spectral_mode_from_string(std::string_view s) {
  if (s == "continuous") return SpectralMode::continuous;
  if (s == "discrete") return SpectralMode::discrete;
  throw Error("unknown spectral mode '" + std::string(s) +
              "': expected \"discrete\" (the FTCS scheme's exact result) or \"continuous\" (the "
              "heat equation's)");
}

bool spectral_available() {
#if defined(CALOR_HAVE_FFTW)
  return true;
#else
  return false;
#endif
}

std::string spectral_library() {
#if defined(CALOR_HAVE_FFTW_MPI)
  return std::string("FFTW ") + fftw_version + " (threads: fftw3_omp; MPI: fftw3_mpi)";
#elif defined(CALOR_HAVE_FFTW)
  return std::string("FFTW ") + fftw_version + " (threads: fftw3_omp; no MPI)";
#else
  return "none: the spectral method is off (install libfftw3-dev and rebuild)";
#endif
}

void check_spectral(const Problem& p, SpectralMode mode) {
  p.validate();
  const std::string hint = "; use the stencil method instead (method = \"stencil\")";
  for (int a = 0; a < p.grid.dim; ++a) {
    for (int side = 0; side < 2; ++side) {
      const Boundary& b = p.boundaries.face[a][side];
      if (b.kind == BoundaryKind::neumann)
        throw Error("the spectral method cannot solve boundary." + face_name(a, side) + " = " +
                    describe(b) + ": it handles periodic and Dirichlet-0 faces only" + hint);
      if (b.kind == BoundaryKind::dirichlet && b.value != 0.0)
        throw Error("the spectral method cannot solve boundary." + face_name(a, side) + " = " +
                    describe(b) +
                    ": only a Dirichlet value of 0 has a sine basis (subtract the steady state "
                    "yourself to use it)" +
                    hint);
    }
    const Boundary& lo = p.boundaries.face[a][0];
    const Boundary& hi = p.boundaries.face[a][1];
    if (lo.kind != hi.kind)
      throw Error("the spectral method needs one kind on both faces of an axis, but boundary." +
                  face_name(a, 0) + " = " + describe(lo) + " and boundary." + face_name(a, 1) +
                  " = " + describe(hi) + hint);
  }
  if (mode == SpectralMode::continuous && !p.sources.points.empty())
    throw Error(
        "the continuous spectral mode has no point sources (they add energy at the scheme's "
        "step times): use the discrete mode, which includes them exactly, or the stencil "
        "method (method = \"stencil\")");
}

namespace detail {

index_t FftPlans::spectral_values() const {
  index_t v = complex ? 2 : 1;
  for (const FftAxis& a : spec_axes)
    v *= a.count;
  return v;
}

std::array<FftKind, 3> fft_kinds(const Problem& p) {
  bool all_periodic = true;
  for (int a = 0; a < p.grid.dim; ++a)
    all_periodic = all_periodic && p.boundaries.periodic(a);
  std::array<FftKind, 3> k{FftKind::dft, FftKind::dft, FftKind::dft};
  for (int a = 0; a < p.grid.dim; ++a) {
    if (!p.boundaries.periodic(a))
      k[a] = FftKind::dst1;
    else if (!all_periodic)
      k[a] = FftKind::r2hc;
    else
      k[a] = a == 0 ? FftKind::dft_half : FftKind::dft;
  }
  return k;
}

std::string describe_kinds(int dim, const std::array<FftKind, 3>& kinds) {
  if (kinds[0] == FftKind::dft_half) return "r2c/c2r";
  std::string s = "r2r (";
  for (int a = dim - 1; a >= 0; --a)
    s += std::string(kinds[a] == FftKind::dst1 ? "RODFT00" : "R2HC") + (a > 0 ? " x " : ")");
  return s;
}

}  // namespace detail

#if defined(CALOR_HAVE_FFTW)

namespace detail {

std::unique_lock<std::mutex> lock_fftw_planner() {
  static std::mutex planner;
  static std::once_flag once;
  std::unique_lock<std::mutex> lock(planner);
  std::call_once(once, [] {
    if (fftw_init_threads() == 0) throw Error("FFTW could not initialise its threads");
  });
  return lock;
}

unsigned fftw_planner_flags(FftPlanning p) {
  switch (p) {
    case FftPlanning::measure:
      return FFTW_MEASURE;
    case FftPlanning::patient:
      return FFTW_PATIENT;
    case FftPlanning::estimate:
      break;
  }
  return FFTW_ESTIMATE;
}

FftPlans::~FftPlans() {
  if (forward_plan != nullptr || backward_plan != nullptr) {
    auto lock = lock_fftw_planner();  // plan destruction shares the planner's tables
    if (forward_plan != nullptr) fftw_destroy_plan(forward_plan);
    if (backward_plan != nullptr) fftw_destroy_plan(backward_plan);
  }
  fftw_free(buffer);
}

void FftPlans::forward() {
  fftw_execute(forward_plan);
}

void FftPlans::backward() {
  fftw_execute(backward_plan);
}

namespace {

int fftw_size(index_t n) {
  if (n > INT_MAX) throw Error("grid axis of " + std::to_string(n) + " cells is too long for FFTW");
  return static_cast<int>(n);
}

// All-periodic problems: FFTW's multi-dimensional in-place r2c / c2r pair (x padded to
// 2 (n/2 + 1) doubles), threaded by FFTW itself.
class R2cFftPlans final : public FftPlans {
 public:
  R2cFftPlans(const Grid& g, const std::array<FftKind, 3>& k, int nthreads, FftPlanning planning) {
    kinds = k;
    threads = nthreads;
    complex = true;
    const int d = g.dim;
    int n[3] = {1, 1, 1};
    for (int i = 0; i < d; ++i) {  // FFTW's order is C order: the outermost axis first
      const int a = d - 1 - i;
      n[i] = fftw_size(g.n[a]);
      real_axes.push_back({a, g.n[a], 0, g.n[a]});
      const index_t ns = a == 0 ? g.n[0] / 2 + 1 : g.n[a];
      spec_axes.push_back({a, ns, 0, ns});
    }
    real_pitch = 2 * (g.n[0] / 2 + 1);
    const index_t values = g.cells() / g.n[0] * real_pitch;
    buffer = fftw_alloc_real(static_cast<std::size_t>(values));
    if (buffer == nullptr)
      throw Error("cannot allocate " + std::to_string(values * 8 / (1 << 20)) +
                  " MiB for the spectral transform");
    std::fill(buffer, buffer + values, 0.0);
    description = describe_kinds(d, k);

    auto lock = lock_fftw_planner();
    fftw_plan_with_nthreads(threads);
    const unsigned flags = fftw_planner_flags(planning);
    const auto t0 = std::chrono::steady_clock::now();
    auto* c = reinterpret_cast<fftw_complex*>(buffer);
    forward_plan = fftw_plan_dft_r2c(d, n, buffer, c, flags);
    backward_plan = fftw_plan_dft_c2r(d, n, c, buffer, flags);
    planning_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (forward_plan == nullptr || backward_plan == nullptr)
      throw Error("FFTW could not plan the " + description + " transform");
  }
};

// The separable r2r transforms (RODFT00 and R2HC per axis) as batches of 1D lines, each line
// through FFTW's r2c (c2r for HC2R), with the threads over the lines. Why not FFTW's own r2r
// plans: a DST-I of n points is a real DFT of 2 (n + 1); for the case study, n + 1 = 4801 is
// prime, where FFTW's r2r planner takes its Hartley-based Rader algorithm, 2-3x slower than the
// complex Rader inside its r2c, and its threaded estimate plans split every line among the
// threads (a synchronisation per line), which made 2 threads slower than 1. Here each thread
// transforms whole blocks of lines in its own small buffer: the same FFTW kernels, no sharing.
class LineFftPlans final : public FftPlans {
 public:
  LineFftPlans(const Grid& g, const std::array<FftKind, 3>& k, int nthreads, FftPlanning planning) {
    kinds = k;
    threads = std::max(nthreads, 1);
    complex = false;
    const int d = g.dim;
    for (int i = 0; i < d; ++i) {
      const int a = d - 1 - i;
      real_axes.push_back({a, g.n[a], 0, g.n[a]});
      spec_axes.push_back({a, g.n[a], 0, g.n[a]});
    }
    real_pitch = g.n[0];
    const index_t values = std::max<index_t>(g.cells(), 1);
    buffer = fftw_alloc_real(static_cast<std::size_t>(values));
    if (buffer == nullptr)
      throw Error("cannot allocate " + std::to_string(values * 8 / (1 << 20)) +
                  " MiB for the spectral transform");
    std::fill(buffer, buffer + values, 0.0);
    description = describe_kinds(d, k) + " by r2c lines";

    index_t stride = 1;
    std::size_t real_work = 1, complex_work = 1;
    for (int a = 0; a < d; ++a) {
      Pass p;
      p.kind = k[a];
      p.n = g.n[a];
      p.stride = stride;
      p.lines = g.cells() / g.n[a];
      p.length = p.kind == FftKind::dst1 ? 2 * (p.n + 1) : p.n;
      stride *= g.n[a];
      passes_.push_back(p);
      real_work = std::max(real_work, static_cast<std::size_t>(kBlock * p.length));
      complex_work = std::max(complex_work, static_cast<std::size_t>(kBlock * (p.length / 2 + 1)));
    }
    for (int t = 0; t < threads; ++t) {
      real_.push_back(fftw_alloc_real(real_work));
      complex_.push_back(fftw_alloc_complex(complex_work));
      if (real_.back() == nullptr || complex_.back() == nullptr)
        throw Error("cannot allocate the spectral transform's line buffers");
    }

    auto lock = lock_fftw_planner();
    fftw_plan_with_nthreads(1);  // the threads are ours, over the lines
    const unsigned flags = fftw_planner_flags(planning);
    const auto t0 = std::chrono::steady_clock::now();
    for (Pass& p : passes_) {
      const int len = fftw_size(p.length), half = len / 2 + 1;
      p.r2c = fftw_plan_many_dft_r2c(1, &len, kBlock, real_[0], nullptr, 1, len, complex_[0],
                                     nullptr, 1, half, flags);
      if (p.kind == FftKind::r2hc)
        p.c2r = fftw_plan_many_dft_c2r(1, &len, kBlock, complex_[0], nullptr, 1, half, real_[0],
                                       nullptr, 1, len, flags);
      if (p.r2c == nullptr || (p.kind == FftKind::r2hc && p.c2r == nullptr))
        throw Error("FFTW could not plan a line transform of " + std::to_string(len) + " points");
    }
    planning_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  ~LineFftPlans() override {
    {
      auto lock = lock_fftw_planner();
      for (Pass& p : passes_) {
        if (p.r2c != nullptr) fftw_destroy_plan(p.r2c);
        if (p.c2r != nullptr) fftw_destroy_plan(p.c2r);
      }
    }
    for (double* w : real_)
      fftw_free(w);
    for (fftw_complex* w : complex_)
      fftw_free(w);
  }
  LineFftPlans(const LineFftPlans&) = delete;
  LineFftPlans& operator=(const LineFftPlans&) = delete;

  void forward() override {
    for (const Pass& p : passes_)
      run(p, false);
  }
  void backward() override {
    for (const Pass& p : passes_)
      run(p, true);
  }

 private:
  /// Lines per FFTW call: 8 doubles fill a cache line when gathering strided lines side by side.
  static constexpr int kBlock = 8;

  struct Pass {
    FftKind kind = FftKind::dst1;
    index_t n = 1, stride = 1, lines = 1, length = 1;  // length: of the real DFT per line
    fftw_plan r2c = nullptr, c2r = nullptr;
  };

  // Applies the 1D transform of `p` (its inverse if `backward`: RODFT00 is its own) to every line
  // along its axis. Line l starts at (l / s) n s + l % s for stride s: neighbouring lines are
  // neighbours in memory, so a block of lines is gathered a cache line at a time.
  void run(const Pass& p, bool backward) {
    const index_t n = p.n, s = p.stride, len = p.length, half = len / 2 + 1;
    const index_t blocks = (p.lines + kBlock - 1) / kBlock;
    double* const buf = buffer;
#pragma omp parallel num_threads(threads)
    {
      const auto t = static_cast<std::size_t>(omp_get_thread_num());
      double* const rw = real_[t];
      fftw_complex* const cw = complex_[t];
      index_t off[kBlock];
#pragma omp for schedule(static)
      for (index_t blk = 0; blk < blocks; ++blk) {
        const index_t l0 = blk * kBlock;
        const int nb = static_cast<int>(std::min<index_t>(kBlock, p.lines - l0));
        for (int b = 0; b < nb; ++b)
          off[b] = (l0 + b) / s * n * s + (l0 + b) % s;
        if (nb < kBlock) {  // a short last block: the unused lines transform zeros
          std::fill(rw, rw + kBlock * len, 0.0);
          std::fill(&cw[0][0], &cw[0][0] + 2 * kBlock * half, 0.0);
        }
        if (p.kind == FftKind::dst1) {
          // Odd extension: 0, x_0 .. x_(n-1), 0, -x_(n-1) .. -x_0; its DFT is -2i times the DST-I.
          for (int b = 0; b < nb; ++b) {
            rw[b * len] = 0.0;
            rw[b * len + n + 1] = 0.0;
          }
          for (index_t j = 0; j < n; ++j)
            for (int b = 0; b < nb; ++b) {
              const double v = buf[off[b] + j * s];
              rw[b * len + 1 + j] = v;
              rw[b * len + len - 1 - j] = -v;
            }
          fftw_execute_dft_r2c(p.r2c, rw, cw);
          for (index_t m = 0; m < n; ++m)
            for (int b = 0; b < nb; ++b)
              buf[off[b] + m * s] = -cw[b * half + m + 1][1];
        } else if (!backward) {  // R2HC: r_0 .. r_(n/2), then i_k at n - k
          for (index_t j = 0; j < n; ++j)
            for (int b = 0; b < nb; ++b)
              rw[b * len + j] = buf[off[b] + j * s];
          fftw_execute_dft_r2c(p.r2c, rw, cw);
          for (index_t m = 0; m < half; ++m)
            for (int b = 0; b < nb; ++b) {
              buf[off[b] + m * s] = cw[b * half + m][0];
              if (m > 0 && 2 * m < n) buf[off[b] + (n - m) * s] = cw[b * half + m][1];
            }
        } else {  // HC2R
          for (index_t m = 0; m < half; ++m)
            for (int b = 0; b < nb; ++b) {
              cw[b * half + m][0] = buf[off[b] + m * s];
              cw[b * half + m][1] = m > 0 && 2 * m < n ? buf[off[b] + (n - m) * s] : 0.0;
            }
          fftw_execute_dft_c2r(p.c2r, cw, rw);
          for (index_t j = 0; j < n; ++j)
            for (int b = 0; b < nb; ++b)
              buf[off[b] + j * s] = rw[b * len + j];
        }
      }
    }
  }

  std::vector<Pass> passes_;
  std::vector<double*> real_;
  std::vector<fftw_complex*> complex_;
};

}  // namespace

std::unique_ptr<FftPlans> make_serial_fft_plans(const Grid& g, const std::array<FftKind, 3>& kinds,
                                                int threads, FftPlanning planning) {
  if (kinds[0] == FftKind::dft_half)
    return std::make_unique<R2cFftPlans>(g, kinds, threads, planning);
  return std::make_unique<LineFftPlans>(g, kinds, threads, planning);
}

}  // namespace detail

SpectralSolver::SpectralSolver(const Problem& p, const SpectralOptions& o)
    : problem_(p), options_(o) {
  check_spectral(p, o.mode);
  if (options_.threads <= 0) options_.threads = default_threads();
  init(detail::make_serial_fft_plans(p.grid, detail::fft_kinds(p), options_.threads,
                                     options_.planning));
}

void SpectralSolver::init(std::unique_ptr<detail::FftPlans> plans) {
  plans_ = std::move(plans);
  const Grid& g = problem_.grid;
  const bool discrete = options_.mode == SpectralMode::discrete;

  box_ = Box::of(g);
  for (const detail::FftAxis& ax : plans_->real_axes) {
    box_.low[ax.axis] = ax.start;
    box_.high[ax.axis] = ax.start + ax.count;
  }
  field_.assign(static_cast<std::size_t>(box_.count()), 0.0);

  // Per axis, the mode's share of 1 - G (discrete) or of alpha |k|^2 (continuous), and the scale
  // of the unnormalised forward-backward pair: n per DFT axis, 2 (n + 1) per DST-I axis.
  const auto r = problem_.fourier_numbers();
  const double pi = std::numbers::pi;
  norm_ = 1.0;
  for (int a = 0; a < 3; ++a) {
    eig_[a].assign(1, 0.0);
    if (a >= g.dim) continue;
    const index_t n = g.n[a];
    const detail::FftKind kind = plans_->kinds[a];
    const bool dst = kind == detail::FftKind::dst1;
    const index_t len = kind == detail::FftKind::dft_half ? n / 2 + 1 : n;
    eig_[a].resize(static_cast<std::size_t>(len));
    const double dn = static_cast<double>(n);
    for (index_t m = 0; m < len; ++m) {
      // The wavenumber index folded into [0, n/2] keeps sin's argument below pi/2 (accurate).
      const double q = dst ? static_cast<double>(m + 1) : static_cast<double>(std::min(m, n - m));
      const double theta = dst ? pi * q / (2.0 * (dn + 1.0)) : pi * q / dn;  // k h / 2
      const double s = std::sin(theta);
      const double k = 2.0 * theta / g.h[a];
      eig_[a][static_cast<std::size_t>(m)] =
          discrete ? 4.0 * r[a] * (s * s) : problem_.alpha * (k * k);
    }
    norm_ /= dst ? 2.0 * (dn + 1.0) : dn;
  }

  // The initial state, this process's part of it. Zero and constant states need no transform.
  const Initial& initial = problem_.initial;
  if (initial.kind == InitialKind::zero || initial.kind == InitialKind::constant) {
    has_u0_ = initial.kind == InitialKind::constant && initial.value != 0.0;
    if (has_u0_) {
      u0_hat_.assign(static_cast<std::size_t>(plans_->spectral_values()), 0.0);
      add_separable(u0_hat_, initial.value, {-1, -1, -1});
      std::fill(field_.begin(), field_.end(), initial.value);
    }
  } else {
    std::vector<double> u0(field_.size(), 0.0);
    if (!u0.empty()) {
      Grid local = g;
      for (int a = 0; a < 3; ++a)
        local.n[a] = box_.size(a);
      Field f(local);
      apply_initial(initial, f, g, box_.low);
      f.copy_interior_to(u0.data());
    }
    has_u0_ = plans_->any(std::any_of(u0.begin(), u0.end(), [](double v) { return v != 0.0; }));
    if (has_u0_) transform(u0, u0_hat_);
    field_ = std::move(u0);  // step 0
  }

  // The sources as one field: the discrete scheme adds q dt and the point energies each step; the
  // continuous equation has the rate q.
  const double q = problem_.sources.volumetric * (discrete ? problem_.dt : 1.0);
  has_sources_ = q != 0.0 || !problem_.sources.points.empty();
  if (has_sources_ && problem_.sources.points.size() <= kAnalyticSources) {
    // A point source and a constant are products of 1D factors, so their transforms are products
    // of 1D transforms, known in closed form: no forward transform (the case study then needs
    // just the inverse one), and exact to rounding.
    s_hat_.assign(static_cast<std::size_t>(plans_->spectral_values()), 0.0);
    if (q != 0.0) add_separable(s_hat_, q, {-1, -1, -1});
    for (const PointSource& ps : problem_.sources.points)
      add_separable(s_hat_, ps.energy, ps.at);
  } else if (has_sources_) {
    std::vector<double> s(field_.size(), q);
    for (const PointSource& ps : problem_.sources.points)
      if (box_.contains(ps.at)) {
        const index_t i =
            (ps.at[0] - box_.low[0]) +
            box_.size(0) * ((ps.at[1] - box_.low[1]) + box_.size(1) * (ps.at[2] - box_.low[2]));
        s[static_cast<std::size_t>(i)] += ps.energy;
      }
    transform(s, s_hat_);
  }
  steps_ = 0;
}

SpectralSolver::~SpectralSolver() = default;
SpectralSolver::SpectralSolver(SpectralSolver&&) noexcept = default;
SpectralSolver& SpectralSolver::operator=(SpectralSolver&&) noexcept = default;

namespace {

// Entry m of the unnormalised 1D transform (FFTW's definitions) of a unit impulse at cell p of an
// axis of n cells, or of the constant 1 when p < 0. Integer phases are reduced before the
// trigonometry, so every entry is accurate to a rounding or two.
std::complex<double> axis_transform(detail::FftKind kind, index_t n, index_t p, index_t m) {
  const double pi = std::numbers::pi;
  if (kind == detail::FftKind::dst1) {  // Y_m = 2 sum_j x_j sin(pi (j+1)(m+1) / (n+1))
    const index_t n1 = n + 1;
    if (p < 0)  // 2 sum_{j=1}^{n} sin(pi j (m+1) / (n+1)) = 2 cot(pi (m+1) / (2 (n+1))) for odd m+1
      return (m + 1) % 2 == 1
                 ? 2.0 / std::tan(pi * static_cast<double>(m + 1) / (2.0 * static_cast<double>(n1)))
                 : 0.0;
    index_t j = ((p + 1) * (m + 1)) % (2 * n1);
    const double sign = j >= n1 ? -1.0 : 1.0;
    j %= n1;
    j = std::min(j, n1 - j);  // sin(pi j / n1) = sin(pi (n1 - j) / n1): argument <= pi/2
    return sign * 2.0 * std::sin(pi * static_cast<double>(j) / static_cast<double>(n1));
  }
  if (p < 0) return m == 0 ? static_cast<double>(n) : 0.0;
  if (kind == detail::FftKind::r2hc) {  // r_m = Re Y_m for m <= n/2; then i_(n-m) = Im Y_(n-m)
    const bool re = 2 * m <= n;
    const index_t j = ((re ? m : n - m) * p) % n;
    const double a = 2.0 * pi * static_cast<double>(j) / static_cast<double>(n);
    return re ? std::cos(a) : -std::sin(a);
  }
  const index_t j = (m * p) % n;  // Y_m = exp(-2 pi i m p / n)
  const double a = 2.0 * pi * static_cast<double>(j) / static_cast<double>(n);
  return {std::cos(a), -std::sin(a)};
}

}  // namespace

void SpectralSolver::add_separable(std::vector<double>& target, double weight,
                                   const std::array<index_t, 3>& at) {
  // Three loop levels, the missing outer ones of lower dimensions of length 1, so that the
  // innermost loop always runs along the longest contiguous axis.
  const auto& ax = plans_->spec_axes;
  const std::size_t skip = 3 - ax.size();
  std::array<std::vector<std::complex<double>>, 3> tab;
  std::array<index_t, 3> c{1, 1, 1};
  for (std::size_t i = 0; i < 3; ++i) {
    if (i < skip) {
      tab[i].assign(1, 1.0);
      continue;
    }
    const detail::FftAxis& x = ax[i - skip];
    c[i] = x.count;
    tab[i].resize(static_cast<std::size_t>(c[i]));
    for (index_t m = 0; m < c[i]; ++m)
      tab[i][static_cast<std::size_t>(m)] =
          axis_transform(plans_->kinds[x.axis], problem_.grid.n[x.axis], at[x.axis], x.start + m);
  }
  double* s = target.data();
  if (plans_->complex) {
#pragma omp parallel for collapse(2) schedule(static) num_threads(options_.threads)
    for (index_t i0 = 0; i0 < c[0]; ++i0)
      for (index_t i1 = 0; i1 < c[1]; ++i1) {
        const std::complex<double> w01 = weight * tab[0][i0] * tab[1][i1];
        const index_t base = 2 * (i0 * c[1] + i1) * c[2];
        for (index_t i2 = 0; i2 < c[2]; ++i2) {
          const std::complex<double> b = tab[2][i2];
          s[base + 2 * i2] += w01.real() * b.real() - w01.imag() * b.imag();
          s[base + 2 * i2 + 1] += w01.real() * b.imag() + w01.imag() * b.real();
        }
      }
  } else {  // r2r: every factor is real
    std::vector<double> last(static_cast<std::size_t>(c[2]));
    for (index_t i2 = 0; i2 < c[2]; ++i2)
      last[static_cast<std::size_t>(i2)] = tab[2][static_cast<std::size_t>(i2)].real();
    const double* l = last.data();
#pragma omp parallel for collapse(2) schedule(static) num_threads(options_.threads)
    for (index_t i0 = 0; i0 < c[0]; ++i0)
      for (index_t i1 = 0; i1 < c[1]; ++i1) {
        const double w01 = weight * tab[0][i0].real() * tab[1][i1].real();
        double* row = s + (i0 * c[1] + i1) * c[2];
        for (index_t i2 = 0; i2 < c[2]; ++i2)
          row[i2] += w01 * l[i2];
      }
  }
}

void SpectralSolver::transform(const std::vector<double>& local, std::vector<double>& spectral) {
  const index_t nx = box_.size(0), pitch = plans_->real_pitch;
  const index_t rows = nx > 0 ? static_cast<index_t>(local.size()) / nx : 0;
  for (index_t row = 0; row < rows; ++row)
    std::memcpy(plans_->buffer + row * pitch, local.data() + row * nx,
                static_cast<std::size_t>(nx) * sizeof(double));
  plans_->forward();
  spectral.assign(plans_->buffer, plans_->buffer + plans_->spectral_values());
}

void SpectralSolver::set_initial(const std::vector<double>& global) {
  const Grid& g = problem_.grid;
  if (global.size() != static_cast<std::size_t>(g.cells()))
    throw Error("set_initial: got " + std::to_string(global.size()) + " values for a grid of " +
                std::to_string(g.cells()) + " cells");
  std::vector<double> u0(field_.size());
  std::size_t o = 0;
  for (index_t k = box_.low[2]; k < box_.high[2]; ++k)
    for (index_t j = box_.low[1]; j < box_.high[1]; ++j)
      for (index_t i = box_.low[0]; i < box_.high[0]; ++i)
        u0[o++] = global[static_cast<std::size_t>(i + g.n[0] * (j + g.n[1] * k))];
  has_u0_ = plans_->any(std::any_of(u0.begin(), u0.end(), [](double v) { return v != 0.0; }));
  if (has_u0_)
    transform(u0, u0_hat_);
  else
    u0_hat_.clear();
  field_ = std::move(u0);
  steps_ = 0;
}

void SpectralSolver::advance_to(std::int64_t steps) {
  if (steps < 0)
    throw Error("the spectral solver cannot go back in time: steps = " + std::to_string(steps));
  // Three loop levels as in add_separable: lower dimensions get outer levels of length 1.
  const auto& ax = plans_->spec_axes;
  const std::size_t skip = 3 - ax.size();
  std::array<const double*, 3> e{};
  std::array<index_t, 3> c{1, 1, 1};
  static const double kZero = 0.0;
  for (std::size_t i = 0; i < 3; ++i) {
    if (i < skip) {
      e[i] = &kZero;
    } else {
      e[i] = eig_[static_cast<std::size_t>(ax[i - skip].axis)].data() + ax[i - skip].start;
      c[i] = ax[i - skip].count;
    }
  }
  const int per = plans_->complex ? 2 : 1;
  const bool discrete = options_.mode == SpectralMode::discrete;
  const double T = static_cast<double>(steps);
  const double t = T * problem_.dt;
  const double norm = norm_;
  const double* u0 = has_u0_ ? u0_hat_.data() : nullptr;
  const double* sh = has_sources_ ? s_hat_.data() : nullptr;
  double* out = plans_->buffer;

  // Bits of T, most significant first, for the binary powering below.
  const auto bits = static_cast<std::uint64_t>(steps);
  int nbits = 0;
  while (nbits < 64 && (bits >> nbits) != 0)
    ++nbits;

#pragma omp parallel for collapse(2) schedule(static) num_threads(options_.threads)
  for (index_t i0 = 0; i0 < c[0]; ++i0)
    for (index_t i1 = 0; i1 < c[1]; ++i1) {
      const double l01 = e[0][i0] + e[1][i1];
      const index_t base = (i0 * c[1] + i1) * c[2];
      // Per mode: decay = G^T or exp(-lam t); weight = sum_{m<T} G^m = (1 - G^T) / (1 - G) or
      // the integral of exp(-lam s) over [0, t]. In chunks, so that the compiler vectorises.
      constexpr index_t kChunk = 256;
      double lam[kChunk], decay[kChunk], weight[kChunk];
      for (index_t q0 = 0; q0 < c[2]; q0 += kChunk) {
        const index_t len = std::min(kChunk, c[2] - q0);
        for (index_t q = 0; q < len; ++q)
          lam[q] = l01 + e[2][q0 + q];
        if (discrete) {
          // Binary powering over the bits of T, without transcendental functions:
          //   D = 1 - G^k:  D_2k = D_k (2 - D_k),  D_(k+1) = D_k + lam (1 - D_k)
          //   P = G^k:      P_2k = P_k^2,          P_(k+1) = P_k G
          // D is formed from lam, never from 1 - G, so sum_{m<T} G^m = D / lam stays accurate
          // where G is close to 1. Squaring doubles a relative error, so P is carried as a
          // double-double (ph + pl, exact products by fma) and G as gh + gl, the rounding of
          // 1 - lam kept in gl: G^T then has a few roundings of error, not T of them.
          double gh[kChunk], gl[kChunk], ph[kChunk], pl[kChunk], D[kChunk];
          for (index_t q = 0; q < len; ++q) {
            const double sum = 1.0 - lam[q], bv = sum - 1.0, av = sum - bv;  // TwoSum(1, -lam)
            gh[q] = sum;
            gl[q] = (1.0 - av) + (-lam[q] - bv);
            ph[q] = 1.0;
            pl[q] = 0.0;
            D[q] = 0.0;
          }
          for (int b = nbits - 1; b >= 0; --b) {
            for (index_t q = 0; q < len; ++q) {
              D[q] = D[q] * (2.0 - D[q]);
              const double h = ph[q], p = h * h;
              const double err = std::fma(h, h, -p) + 2.0 * h * pl[q];
              ph[q] = p + err;
              pl[q] = err - (ph[q] - p);
            }
            if (((bits >> b) & 1u) != 0)
              for (index_t q = 0; q < len; ++q) {
                D[q] = D[q] + lam[q] * (1.0 - D[q]);
                const double h = ph[q], p = h * gh[q];
                const double err = std::fma(h, gh[q], -p) + (h * gl[q] + pl[q] * gh[q]);
                ph[q] = p + err;
                pl[q] = err - (ph[q] - p);
              }
          }
          for (index_t q = 0; q < len; ++q) {
            decay[q] = ph[q] + pl[q];
            weight[q] = lam[q] == 0.0 ? T : D[q] / lam[q];
          }
        } else {
          for (index_t q = 0; q < len; ++q) {
            decay[q] = std::exp(-lam[q] * t);
            weight[q] = lam[q] == 0.0 ? t : -std::expm1(-lam[q] * t) / lam[q];
          }
        }
        // Complex values get the same real factors on both parts.
        for (int part = 0; part < per; ++part) {
          const index_t at = (base + q0) * per + part;
          double* o = out + at;
          if (u0 != nullptr && sh != nullptr)
            for (index_t q = 0; q < len; ++q)
              o[q * per] = norm * (decay[q] * u0[at + q * per] + weight[q] * sh[at + q * per]);
          else if (u0 != nullptr)
            for (index_t q = 0; q < len; ++q)
              o[q * per] = norm * (decay[q] * u0[at + q * per]);
          else if (sh != nullptr)
            for (index_t q = 0; q < len; ++q)
              o[q * per] = norm * (weight[q] * sh[at + q * per]);
          else
            for (index_t q = 0; q < len; ++q)
              o[q * per] = 0.0;
        }
      }
    }
  plans_->backward();

  const index_t nx = box_.size(0), pitch = plans_->real_pitch;
  const index_t rows = nx > 0 ? static_cast<index_t>(field_.size()) / nx : 0;
  for (index_t row = 0; row < rows; ++row)
    std::memcpy(field_.data() + row * nx, plans_->buffer + row * pitch,
                static_cast<std::size_t>(nx) * sizeof(double));
  steps_ = steps;
}

std::vector<double> SpectralSolver::gather() const {
  return plans_->gather(field_);
}

Stats SpectralSolver::stats() const {
  StatsAccumulator acc;
  for (double v : field_)
    acc.add(v);
  return plans_->reduce(acc).finish();
}

std::string SpectralSolver::describe() const {
  const int p = plans_->processes();
  return std::string("FFTW ") + fftw_version + ", " + plans_->description + ", " +
         std::to_string(plans_->threads) + (plans_->threads == 1 ? " thread" : " threads") + ", " +
         std::to_string(p) + (p == 1 ? " process" : " processes");
}

double SpectralSolver::planning_seconds() const {
  return plans_->planning_seconds;
}

bool import_fft_wisdom(const std::string& path) {
  if (!std::ifstream(path)) return false;
  auto lock = detail::lock_fftw_planner();
  if (fftw_import_wisdom_from_filename(path.c_str()) == 0)
    throw Error("'" + path +
                "' is not FFTW wisdom for this FFTW version and precision: delete it to plan "
                "afresh");
  return true;
}

void export_fft_wisdom(const std::string& path) {
  auto lock = detail::lock_fftw_planner();
  if (fftw_export_wisdom_to_filename(path.c_str()) == 0)
    throw Error("cannot write FFTW wisdom to '" + path +
                "': check that the directory exists and is writable");
}

#else  // no FFTW: the API exists, and says how to get it.

namespace {
[[noreturn]] void no_fftw() {
  throw Error(
      "this calor was built without FFTW, which the spectral method needs: install "
      "libfftw3-dev (and libfftw3-mpi-dev for MPI) and rebuild, or use the stencil method "
      "(method = \"stencil\")");
}
}  // namespace

namespace detail {
std::unique_lock<std::mutex> lock_fftw_planner() {
  no_fftw();
}
unsigned fftw_planner_flags(FftPlanning) {
  return 0;
}
FftPlans::~FftPlans() = default;
void FftPlans::forward() {
  no_fftw();
}
void FftPlans::backward() {
  no_fftw();
}
std::unique_ptr<FftPlans> make_serial_fft_plans(const Grid&, const std::array<FftKind, 3>&, int,
                                                FftPlanning) {
  no_fftw();
}
}  // namespace detail

SpectralSolver::SpectralSolver(const Problem& p, const SpectralOptions& o)
    : problem_(p), options_(o) {
  no_fftw();
}
SpectralSolver::~SpectralSolver() = default;
SpectralSolver::SpectralSolver(SpectralSolver&&) noexcept = default;
SpectralSolver& SpectralSolver::operator=(SpectralSolver&&) noexcept = default;
void SpectralSolver::init(std::unique_ptr<detail::FftPlans>) {
  no_fftw();
}
void SpectralSolver::transform(const std::vector<double>&, std::vector<double>&) {
  no_fftw();
}
void SpectralSolver::add_separable(std::vector<double>&, double, const std::array<index_t, 3>&) {
  no_fftw();
}
void SpectralSolver::set_initial(const std::vector<double>&) {
  no_fftw();
}
void SpectralSolver::advance_to(std::int64_t) {
  no_fftw();
}
std::vector<double> SpectralSolver::gather() const {
  no_fftw();
}
Stats SpectralSolver::stats() const {
  no_fftw();
}
std::string SpectralSolver::describe() const {
  no_fftw();
}
double SpectralSolver::planning_seconds() const {
  no_fftw();
}
bool import_fft_wisdom(const std::string&) {
  no_fftw();
}
void export_fft_wisdom(const std::string&) {
  no_fftw();
}

#endif

}  // namespace calor
