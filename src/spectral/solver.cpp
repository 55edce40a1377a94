// The spectral solver: transforms the initial state and the sources once, then reaches any step
// with one multiply and one inverse transform. Built only with FFTW (CMakeLists.txt).

#include <fftw3.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <numbers>

#include "calor/error.hpp"
#include "calor/field.hpp"
#include "calor/initial.hpp"
#include "calor/machine.hpp"
#include "calor/spectral.hpp"
#include "spectral/plans.hpp"

namespace calor {

SpectralSolver::SpectralSolver(const Problem& p, const SpectralOptions& o)
    : problem_(p), options_(o) {
  check_spectral(p, o.mode);
  if (options_.threads <= 0) options_.threads = default_threads();
  init(detail::make_serial_fft_plans(p.grid, detail::fft_kinds(p), options_.threads,
                                     options_.planning));
}

SpectralSolver::SpectralSolver(const Problem& p, const SpectralOptions& o, const Comm& comm)
    : problem_(p), options_(o) {
  check_spectral(p, o.mode);
  if (options_.threads <= 0) options_.threads = default_threads();
  const auto kinds = detail::fft_kinds(p);
  init(comm.size() > 1
           ? detail::make_mpi_fft_plans(p.grid, kinds, options_.threads, options_.planning, comm)
           : detail::make_serial_fft_plans(p.grid, kinds, options_.threads, options_.planning));
}
void SpectralSolver::init(std::unique_ptr<detail::FftPlans> plans) {
  plans_ = std::move(plans);
  box_ = Box::of(problem_.grid);
  for (const detail::FftAxis& ax : plans_->real_axes) {
    box_.low[ax.axis] = ax.start;
    box_.high[ax.axis] = ax.start + ax.count;
  }
  field_.assign(static_cast<std::size_t>(box_.count()), 0.0);
  init_eigenvalues();
  init_initial_state();
  init_sources();
  steps_ = 0;
}

void SpectralSolver::init_eigenvalues() {
  const Grid& g = problem_.grid;
  const bool discrete = options_.mode == SpectralMode::discrete;
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
}

void SpectralSolver::init_initial_state() {
  const Grid& g = problem_.grid;
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
      Field f(box_.grid_in(g));
      apply_initial(initial, f, g, box_.low);
      f.copy_interior_to(u0.data());
    }
    has_u0_ = plans_->any(std::any_of(u0.begin(), u0.end(), [](double v) { return v != 0.0; }));
    if (has_u0_) transform(u0, u0_hat_);
    field_ = std::move(u0);  // step 0
  }
}

void SpectralSolver::init_sources() {
  const bool discrete = options_.mode == SpectralMode::discrete;
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

namespace {

// Modes are handled in chunks of this many along the last axis, so that the compiler vectorises.
constexpr index_t kChunk = 256;

// Per mode of eigenvalue lam[q] (q < len), after T steps of the discrete scheme: decay = G^T and
// weight = sum_{m<T} G^m = (1 - G^T) / lam, G = 1 - lam, by binary powering over the bits of T
// (`nbits` of them in `bits`), without transcendental functions:
//   D = 1 - G^k:  D_2k = D_k (2 - D_k),  D_(k+1) = D_k + lam (1 - D_k)
//   P = G^k:      P_2k = P_k^2,          P_(k+1) = P_k G
// D is formed from lam, never from 1 - G, so D / lam stays accurate where G is close to 1.
// Squaring doubles a relative error, so P is carried as a double-double (ph + pl, exact products
// by fma) and G as gh + gl, the rounding of 1 - lam kept in gl: G^T then has a few roundings of
// error, not T of them.
void discrete_factors(const double* __restrict lam, index_t len, std::uint64_t bits, int nbits,
                      double* __restrict decay, double* __restrict weight) {
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
  const auto T = static_cast<double>(bits);
  for (index_t q = 0; q < len; ++q) {
    decay[q] = ph[q] + pl[q];
    weight[q] = lam[q] == 0.0 ? T : D[q] / lam[q];
  }
}

// The same for the exact-in-time solution at time t: decay = exp(-lam t) and weight = the
// integral of exp(-lam s) over [0, t].
void continuous_factors(const double* __restrict lam, index_t len, double t,
                        double* __restrict decay, double* __restrict weight) {
  for (index_t q = 0; q < len; ++q) {
    decay[q] = std::exp(-lam[q] * t);
    weight[q] = lam[q] == 0.0 ? t : -std::expm1(-lam[q] * t) / lam[q];
  }
}

// o[q * per] = norm (decay u0 + weight s) for q < len, either term absent where its spectrum is
// null (u0, s and o at the same mode; a complex value's two parts are `per` = 2 apart).
void combine_modes(const double* decay, const double* weight, index_t len, int per, double norm,
                   const double* u0, const double* s, double* o) {
  if (u0 != nullptr && s != nullptr)
    for (index_t q = 0; q < len; ++q)
      o[q * per] = norm * (decay[q] * u0[q * per] + weight[q] * s[q * per]);
  else if (u0 != nullptr)
    for (index_t q = 0; q < len; ++q)
      o[q * per] = norm * (decay[q] * u0[q * per]);
  else if (s != nullptr)
    for (index_t q = 0; q < len; ++q)
      o[q * per] = norm * (weight[q] * s[q * per]);
  else
    for (index_t q = 0; q < len; ++q)
      o[q * per] = 0.0;
}

}  // namespace

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
  const double t = static_cast<double>(steps) * problem_.dt;
  const double norm = norm_;
  const double* u0 = has_u0_ ? u0_hat_.data() : nullptr;
  const double* sh = has_sources_ ? s_hat_.data() : nullptr;
  double* out = plans_->buffer;

  // Bits of T, most significant first, for the binary powering (discrete_factors).
  const auto bits = static_cast<std::uint64_t>(steps);
  int nbits = 0;
  while (nbits < 64 && (bits >> nbits) != 0)
    ++nbits;

#pragma omp parallel for collapse(2) schedule(static) num_threads(options_.threads)
  for (index_t i0 = 0; i0 < c[0]; ++i0)
    for (index_t i1 = 0; i1 < c[1]; ++i1) {
      const double l01 = e[0][i0] + e[1][i1];
      const index_t base = (i0 * c[1] + i1) * c[2];
      double lam[kChunk], decay[kChunk], weight[kChunk];
      for (index_t q0 = 0; q0 < c[2]; q0 += kChunk) {
        const index_t len = std::min(kChunk, c[2] - q0);
        for (index_t q = 0; q < len; ++q)
          lam[q] = l01 + e[2][q0 + q];
        if (discrete)
          discrete_factors(lam, len, bits, nbits, decay, weight);
        else
          continuous_factors(lam, len, t, decay, weight);
        // Complex values get the same real factors on both parts.
        for (int part = 0; part < per; ++part) {
          const index_t at = (base + q0) * per + part;
          combine_modes(decay, weight, len, per, norm, u0 != nullptr ? u0 + at : nullptr,
                        sh != nullptr ? sh + at : nullptr, out + at);
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
  // Dense rows of the local box, in the order every reduction of a field has (stats.hpp).
  const index_t n[3] = {box_.size(0), box_.size(1), box_.size(2)};
  return plans_->reduce(accumulate(field_.data(), n, n[0], n[0] * n[1])).finish();
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

}  // namespace calor
