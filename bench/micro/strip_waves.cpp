// The tiled backend's 2D schedule in isolation (issue 20): the waves of one column strip, with
// no threads, halo, sources or checks around them, so that a strip's width and depth can be
// timed against each other without the noise of a whole run. One core, the case-study update
// (rows_simd, the backends' own kernel), a random field. Each timing runs whole blocks, at
// least 200 million updates (one block where that is more), the configurations interleaved,
// best of the rounds.
//   build/bin/calor_strip_waves [rows] [rounds] [width:depth ...]   (pin it: taskset -c 1)
// A wave advances step t on the two rows at 2 (wave - t + 1), t = 1..depth, the strip leaning
// back one column per step, as TiledBackend::block_strips does.
//
// Beside each strip, the bound its cache sets: step t reads four rows of step t - 1, of which
// only the newest (written by step t - 1 in the same wave) is still in the L1, and writes two.
// Counted as a copy counts (bytes read + bytes written), that is (3 + 2) rows per 2 rows
// updated: 20 B per update from the cache that holds the rows in flight. A copy between two
// arrays of that size (each half of what is in flight), timed in the same rounds, gives the
// cache's rate; rate / 20 B is the most updates a second this schedule can make there.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "backends/dispatch.hpp"
#include "backends/rows.hpp"
#include "bandwidth.hpp"

namespace {

using calor::index_t;
using S = calor::detail::Shape<2, calor::StencilForm::factored, calor::Heating::none>;

struct Config {
  index_t width = 0;
  int depth = 0;
  double best = 0;  // MLUP/s
  double copy = 0;  // GB/s of a copy the size of what is in flight (its cache's rate)

  [[nodiscard]] double in_flight() const {  // bytes: 2 arrays of 2 depth + 2 rows
    return 2.0 * (2 * depth + 2) * static_cast<double>(width) * sizeof(double);
  }
};

/// Bytes per update between the L1 and the cache holding the rows in flight (see the top).
constexpr double kCacheBytesPerUpdate = 20;

// Two fields of `rows` rows, wide enough for the strip and its lean, rows padded to cache lines.
class Strip {
 public:
  Strip(index_t width, int depth, index_t rows)
      : width_(width), depth_(depth), rows_(rows), sy_((width + depth + 24) / 8 * 8) {
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const auto n = static_cast<std::size_t>(sy_ * (rows + 2) + 16);
    for (Buffer* f : {&a_, &b_}) {
      // aligned_alloc wants a multiple of the alignment.
      f->reset(static_cast<double*>(std::aligned_alloc(64, (n * sizeof(double) + 63) / 64 * 64)));
      if (!*f) throw std::bad_alloc();
    }
    for (std::size_t i = 0; i < n; ++i)
      a_[i] = b_[i] = u(rng);
  }

  // Seconds for `blocks` blocks of depth steps over the strip.
  double time(int blocks) {
    calor::Coefficients c{};
    c.c0 = 0.5;
    c.c1 = 0.1;
    const auto w = calor::Weights<double>::from(c);
    const auto wv = calor::Weights<calor::detail::vec>::from(c);
    const auto t0 = std::chrono::steady_clock::now();
    for (int blk = 0; blk < blocks; ++blk)
      for (index_t wave = 0; wave < rows_ / 2 + depth_ - 1; ++wave)
        for (int t = 1; t <= depth_; ++t) {
          const index_t j = 2 * (wave - (t - 1));
          if (j < 0 || j + 1 >= rows_) continue;
          double* in = t % 2 == 1 ? a_.get() : b_.get();
          double* out = t % 2 == 1 ? b_.get() : a_.get();
          const index_t at = 8 + (j + 1) * sy_;  // cell (0, j): 64-byte aligned, as in a Field
          const calor::detail::Row r{in + at, out + at, sy_, 0, {}, nullptr};
          const index_t c0 = depth_ - (t - 1);
          calor::detail::rows_simd<S, 2, false, true>(w, wv, 0.0, r, c0, c0 + width_);
        }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

 private:
  index_t width_;
  int depth_;
  index_t rows_, sy_;
  struct Free {
    void operator()(double* p) const { std::free(p); }
  };
  using Buffer = std::unique_ptr<double[], Free>;
  Buffer a_, b_;
};

}  // namespace

int main(int argc, char** argv) {
  // Numbers from the command line, each checked: a bad one ends the run with its name.
  auto number = [](const std::string& text, long lo, const char* what) {
    std::size_t used = 0;
    long v = 0;
    try {
      v = std::stol(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != text.size() || v < lo || v > 1'000'000) {
      std::fprintf(stderr,
                   "calor_strip_waves: %s '%s' must be a whole number from %ld to 1000000\n", what,
                   text.c_str(), lo);
      std::exit(2);
    }
    return v;
  };
  const index_t rows = argc > 1 ? number(argv[1], 2, "rows") : 4800;
  const int rounds = argc > 2 ? static_cast<int>(number(argv[2], 1, "rounds")) : 4;
  std::vector<Config> configs;
  for (int i = 3; i < argc; ++i) {
    const std::string s = argv[i];
    const auto colon = s.find(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "calor_strip_waves: '%s' is not width:depth, e.g. 960:32\n", s.c_str());
      return 2;
    }
    configs.push_back({number(s.substr(0, colon), 8, "width"),
                       static_cast<int>(number(s.substr(colon + 1), 1, "depth"))});
  }
  if (configs.empty()) configs = {{960, 64}, {480, 64}, {960, 32}, {640, 48}, {480, 32}};
  std::printf(
      "one column strip of the case-study update, %lld rows, 1 thread, random field; best of "
      "%d interleaved rounds (columns x steps per block; in flight = 2 arrays of 2 depth + 2 "
      "rows):\n",
      static_cast<long long>(rows), rounds);
  for (int r = 0; r < rounds; ++r)
    for (Config& c : configs) {
      Strip strip(c.width, c.depth, rows);
      // At least 200 million updates a timing, in whole blocks.
      const int blocks = std::max<int>(
          1, static_cast<int>(std::ceil(2e8 / (static_cast<double>(c.width * rows) * c.depth))));
      const double s = strip.time(blocks);
      c.best = std::max(c.best, static_cast<double>(blocks) * c.depth *
                                    static_cast<double>(c.width * rows) / s / 1e6);
      // Passes over the copy to about 4 GB a timing, best of 3.
      calor::CopyKernel copy(static_cast<std::size_t>(c.in_flight() / 2), 1);
      const int passes = std::max(1, static_cast<int>(4e9 / c.in_flight()));
      c.copy = std::max(c.copy, copy.measure(3, false, passes).gbs);
    }
  std::printf(
      "  columns x steps   in flight       MLUP/s   its cache's copy   bound at %.0f B   "
      "of it\n",
      kCacheBytesPerUpdate);
  for (const Config& c : configs) {
    const double bound = c.copy * 1e3 / kCacheBytesPerUpdate;  // MLUP/s
    std::printf("  %5lld x %3d      %6.2f MB  %10.1f  %9.1f GB/s  %9.1f MLUP/s  %5.2f\n",
                static_cast<long long>(c.width), c.depth, c.in_flight() / 1e6, c.best, c.copy,
                bound, c.best / bound);
  }
  return 0;
}
