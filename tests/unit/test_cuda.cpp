// The cuda backend without a GPU (issue 22). Its kernels are thin: each thread calls a
// host-device function of src/cuda/kernels.hpp, and cuda::advance_on orders the launches. Here
// an executor runs every thread of every launch on the CPU (block by block, out-of-range threads
// included), so the very code the device runs, its launch geometry and its face order are checked
// bit for bit against the serial backend. On a machine with a device the real backend is checked
// the same way; without one that test is reported as skipped.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "calor/device.hpp"
#include "calor/error.hpp"
#include "calor/run.hpp"
#include "cases.hpp"
#include "cuda/kernels.hpp"
#include "helpers.hpp"

namespace calor {
namespace {

// Runs each launch's threads in order on the host.
struct HostExec {
  const std::vector<SourceCell>* cells;
  int launches = 0;

  const double* read(const std::shared_ptr<const Field>& f) { return f ? f->raw() : nullptr; }

  template <class F>
  void each_thread(const cuda::Launch& l, F&& f) {
    ++launches;
    for (std::uint32_t bz = 0; bz < l.grid[2]; ++bz)
      for (std::uint32_t by = 0; by < l.grid[1]; ++by)
        for (std::uint32_t bx = 0; bx < l.grid[0]; ++bx)
          for (std::uint32_t tz = 0; tz < l.block[2]; ++tz)
            for (std::uint32_t ty = 0; ty < l.block[1]; ++ty)
              for (std::uint32_t tx = 0; tx < l.block[0]; ++tx)
                f(index_t{bx} * l.block[0] + tx, index_t{by} * l.block[1] + ty,
                  index_t{bz} * l.block[2] + tz);
  }
  void face(const cuda::FaceParams& p, const cuda::Launch& l, double* u) {
    each_thread(l, [&](index_t t1, index_t t2, index_t) { cuda::face_cell(p, u, t1, t2); });
  }
  template <class S>
  void sweep(const cuda::SweepParams& p, const cuda::Launch& l, const double* in, double* out) {
    each_thread(l, [&](index_t i, index_t j, index_t k) {
      cuda::sweep_cell<S::dim, S::form, S::heat>(p, in, out, i, j, k);
    });
  }
  void sources(double* u) {
    for (const SourceCell& c : *cells)
      u[c.offset] += c.energy;
  }
};

// The cuda backend's step sequence with HostExec in place of kernel launches.
class EmulatedCuda final : public Backend {
 public:
  [[nodiscard]] std::string_view name() const override { return "emulated-cuda"; }
  void advance(const Scheme& scheme, Halo& halo, Field& cur, Field& next,
               std::int64_t steps) override {
    HostExec exec{&scheme.sources};
    cuda::advance_on(exec, scheme, halo, cur, next, steps);
  }
};

std::vector<double> run(const Problem& p, std::unique_ptr<Backend> b) {
  Solver s(p, std::move(b));
  std::vector<double> initial(static_cast<std::size_t>(p.grid.cells()));
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (double& v : initial)
    v = u(rng);
  s.load_interior(initial.data());
  s.step(p.steps / 2);
  s.step(p.steps - p.steps / 2);
  return test::interior(s.host_field());
}

// The backends' bit-for-bit cases (every form, heating and face kind, alpha and q fields, time
// tables), plus Robin faces with a constant alpha and more point sources than a sweep fuses,
// two of them on one cell.
std::vector<test::Case> cuda_cases() {
  std::vector<test::Case> v = test::cases();
  v.push_back({"robin2d", test::sizes(2, {13, 9}) +
                              "steps = 9\nboundary.all = { type = \"robin\", h = 2.0, ambient = "
                              "0.5 }\nboundary.x_low = { type = \"robin\", h = 0.5, ambient = "
                              "[[0.0, 1.0], [0.05, 3.0]] }\n"});
  std::string many = test::sizes(3, {9, 7, 5}) + "steps = 6\n[sources]\npoints = [";
  for (int s = 0; s < cuda::kFusedSources + 3; ++s)
    many += (s ? ", " : "") + std::string("{ at = [") + std::to_string(s % 9) + ", " +
            std::to_string(s % 7) + ", " + std::to_string(s % 2) +
            "], energy = " + std::to_string(0.5 + s) + " }";
  v.push_back({"many_sources", many + ", { at = [0, 0, 0], energy = 1e-17 }]\n"});
  return v;
}

TEST(CudaKernels, EmulatedLaunchesMatchTheReferenceBitForBit) {
  int compared = 0;
  for (const test::Case& c : cuda_cases()) {
    SCOPED_TRACE(c.name + ":\n" + c.toml);
    const Problem p = test::problem(c.toml);
    EXPECT_TRUE(
        test::same_bits(run(p, std::make_unique<EmulatedCuda>()), run(p, make_backend("serial"))));
    ++compared;
  }
  EXPECT_EQ(compared, static_cast<int>(test::cases().size()) + 2);
}

TEST(CudaKernels, LaunchesCoverEveryCellOnce) {
  const index_t n[3] = {1001, 3, 1};
  const cuda::Launch l = cuda::sweep_launch(2, n);
  EXPECT_EQ(l.block[0] * l.block[1] * l.block[2], 256u);
  EXPECT_EQ(l.grid[0], 32u);  // 1001 / 32, rounded up
  EXPECT_EQ(l.grid[1], 1u);
  const index_t m[3] = {33, 7, 5};
  const cuda::Launch l3 = cuda::sweep_launch(3, m);
  EXPECT_GE(index_t{l3.grid[2]} * l3.block[2], 5);
  EXPECT_LT(index_t{l3.grid[2] - 1} * l3.block[2], 5);
}

TEST(CudaBackend, WithoutADeviceItIsRefusedWithTheReason) {
  std::string why;
  if (!cuda_devices(&why).empty()) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_FALSE(why.empty());
  try {
    (void)make_backend("cuda");
    ADD_FAILURE() << "backend 'cuda' was made without a device";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("cuda"), std::string::npos) << m;
    EXPECT_NE(m.find(why), std::string::npos) << m;
  }
  Grid g;
  g.n = {4800, 4800, 1};
  EXPECT_NE(auto_backend_choice(g, 2).name, "cuda");
}

TEST(CudaBackend, OnTheDeviceMatchesTheReferenceBitForBit) {
  std::string why;
  if (cuda_devices(&why).empty()) GTEST_SKIP() << "no GPU: " << why;
  for (const test::Case& c : cuda_cases()) {
    SCOPED_TRACE(c.name + ":\n" + c.toml);
    const Problem p = test::problem(c.toml);
    EXPECT_TRUE(test::same_bits(run(p, make_backend("cuda")), run(p, make_backend("serial"))));
  }
  // The case study at a size the device fills, with its own statistics.
  const Problem study = test::problem("preset = \"stencil\"\nn = 1200\nsteps = 50\n");
  EXPECT_TRUE(
      test::same_bits(run(study, make_backend("cuda")), run(study, make_backend("serial"))));
}

TEST(CudaBackend, RefusesMoreThanOneProcess) {
  std::string why;
  if (cuda_devices(&why).empty()) GTEST_SKIP() << "no GPU: " << why;
  const Problem p = test::problem("dim = 2\nn = [16, 16]\nsteps = 2\n");
  const auto b = make_backend("cuda");
  EXPECT_EQ(b->unsupported(p, false), "");
  EXPECT_NE(b->unsupported(p, true).find("one process"), std::string::npos);
}

}  // namespace
}  // namespace calor
