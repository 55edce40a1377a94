// The cuda backend without a GPU (issue 22). Its kernels are thin: each thread calls a
// host-device function of src/cuda/kernels.hpp, and cuda::DeviceSteps orders the launches. Here
// an executor runs every thread of every launch on the CPU (block by block, out-of-range threads
// included), so the very code the device runs, its launch geometry and its face order are checked
// bit for bit against the serial backend. On a machine with a device the real backend is checked
// the same way; without one that test is reported as skipped.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "calor/device.hpp"
#include "calor/error.hpp"
#include "calor/run.hpp"
#include "cases.hpp"
#include "cuda/kernels.hpp"
#include "emulated_cuda.hpp"
#include "helpers.hpp"

namespace calor {
namespace {

std::vector<double> run(const Problem& p, std::unique_ptr<Backend> b,
                        std::shared_ptr<const Domain> d = nullptr) {
  Solver s(p, std::move(b), std::move(d));
  const std::vector<double> initial = test::random_field(p.grid, 11);
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

// Heat, min, max and L2 with the same bits as the host's reduction.
void expect_same_stats(const Stats& a, const Stats& b) {
  EXPECT_EQ(std::bit_cast<std::uint64_t>(a.heat), std::bit_cast<std::uint64_t>(b.heat));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(a.min), std::bit_cast<std::uint64_t>(b.min));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(a.max), std::bit_cast<std::uint64_t>(b.max));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(a.l2), std::bit_cast<std::uint64_t>(b.l2));
}

Stats final_stats(const Problem& p, std::unique_ptr<Backend> b) {
  Solver s(p, std::move(b));
  s.step(p.steps);
  return s.stats();
}

TEST(CudaKernels, EmulatedLaunchesMatchTheReferenceBitForBit) {
  int compared = 0;
  for (const test::Case& c : cuda_cases()) {
    SCOPED_TRACE(c.name + ":\n" + c.toml);
    const Problem p = test::problem(c.toml);
    const auto ref = run(p, make_backend("serial"));
    for (const test::Order order : {test::Order::compute_first, test::Order::comm_first})
      EXPECT_TRUE(test::same_bits(run(p, std::make_unique<test::EmulatedCuda>(order)), ref));
    // The statistics, reduced row by row as the device does; each launch's threads last to
    // first (comm_first), as no launch may depend on its threads' order.
    expect_same_stats(final_stats(p, std::make_unique<test::EmulatedCuda>(test::Order::comm_first)),
                      final_stats(p, make_backend("serial")));
    ++compared;
  }
  EXPECT_EQ(compared, static_cast<int>(test::cases().size()) + 2);
}

// The cases with a periodic face, whose layers then travel as an MPI rank's do (LoopbackHalo).
std::vector<test::Case> periodic_cases() {
  std::vector<test::Case> v;
  for (const test::Case& c : cuda_cases()) {
    const Boundaries bc = test::problem(c.toml).boundaries;
    if (bc.periodic(0) || bc.periodic(1) || bc.periodic(2)) v.push_back(c);
  }
  return v;
}

// The exchange path (layers packed, sent, unpacked; the inner cells updated meanwhile) with
// each stream running ahead in turn, staged through host buffers or handed over directly.
TEST(CudaKernels, LayersSentAsUnderMpiMatchTheReference) {
  int compared = 0;
  for (const test::Case& c : periodic_cases()) {
    SCOPED_TRACE(c.name + ":\n" + c.toml);
    const Problem p = test::problem(c.toml);
    const auto ref = run(p, make_backend("serial"));
    for (const test::Order order : {test::Order::compute_first, test::Order::comm_first})
      for (const bool direct : {false, true}) {
        EXPECT_TRUE(test::same_bits(run(p, std::make_unique<test::EmulatedCuda>(order, direct),
                                        std::make_shared<test::LoopbackDomain>(p.grid)),
                                    ref))
            << (order == test::Order::comm_first ? "comm first" : "compute first")
            << (direct ? ", direct" : ", staged");
        ++compared;
      }
  }
  EXPECT_GE(compared, 4 * 10);
}

TEST(CudaKernels, AGridTooThinToLaunchIsRefused) {
  // 524296 rows need 65537 blocks of 8 rows: one more than CUDA launches along y (a single
  // column would go 256 rows to a block).
  const Problem p = test::problem("dim = 2\nn = [2, 524296]\nsteps = 1\n");
  Solver s(p, std::make_unique<test::EmulatedCuda>());
  try {
    s.step(1);
    ADD_FAILURE() << "a launch of 65537 blocks along y was not refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("grid this thin"), std::string::npos) << e.what();
  }
}

// Each cell of the launch's box, counted once per thread that updates it (sweep_column's
// cells: (i, rows j + r, k)), threads out of range included.
std::vector<int> sweep_hits(const cuda::Launch& l, const index_t (&n)[3]) {
  std::vector<int> hits(static_cast<std::size_t>(n[0] * n[1] * n[2]), 0);
  for (index_t k = 0; k < index_t{l.grid[2]} * l.block[2]; ++k)
    for (index_t j = 0; j < index_t{l.grid[1]} * l.block[1]; ++j)
      for (index_t i = 0; i < index_t{l.grid[0]} * l.block[0]; ++i)
        for (index_t r = 0; r < l.rows; ++r) {
          const index_t y = l.rows * j + r;
          if (i < n[0] && y < n[1] && k < n[2])
            ++hits[static_cast<std::size_t>(i + n[0] * (y + n[1] * k))];
        }
  return hits;
}

TEST(CudaKernels, LaunchesCoverEveryCellOnce) {
  // 2D: 128 x 2 threads of 4 cells; 3D: 32 x 4 x 2 of 2; a box one cell thin
  // along x: 256 threads along y (and z) of one cell, no thread idle along x.
  for (const auto& [dim, n0, n1, n2] : std::vector<std::array<index_t, 4>>{{2, 1001, 3, 1},
                                                                           {2, 130, 17, 1},
                                                                           {2, 5, 9, 1},
                                                                           {2, 1, 300, 1},
                                                                           {3, 33, 7, 5},
                                                                           {3, 1, 300, 70},
                                                                           {1, 1001, 1, 1}}) {
    const index_t n[3] = {n0, n1, n2};
    const cuda::Launch l = cuda::sweep_launch(static_cast<int>(dim), n);
    SCOPED_TRACE(std::to_string(dim) + "D, " + std::to_string(n0) + " x " + std::to_string(n1) +
                 " x " + std::to_string(n2));
    EXPECT_EQ(l.block[0] * l.block[1] * l.block[2], 256u);
    EXPECT_EQ(l.rows, n0 > 1 ? cuda::sweep_rows(static_cast<int>(dim)) : 1);
    if (n0 == 1) {
      EXPECT_EQ(l.block[0] * l.grid[0], 1u);
    }
    for (const int h : sweep_hits(l, n))
      ASSERT_EQ(h, 1);
    for (int a = 0; a < 3; ++a)  // no block wholly outside the box
      EXPECT_LT(index_t{l.grid[a] - 1} * l.block[a] * (a == 1 ? l.rows : 1), n[a]) << a;
  }
}

// Every thread of `l` running sweep_column (l.rows cells each) from `in` into `out`.
template <int Dim, StencilForm Form, Heating Heat>
void run_columns(const cuda::Launch& l, const cuda::SweepParams& p, const Field& in, Field& out) {
  cuda::with_rows<Dim>(l, [&](auto rows) {
    for (index_t k = 0; k < index_t{l.grid[2]} * l.block[2]; ++k)
      for (index_t j = 0; j < index_t{l.grid[1]} * l.block[1]; ++j)
        for (index_t i = 0; i < index_t{l.grid[0]} * l.block[0]; ++i)
          cuda::sweep_column<Dim, Form, Heat, decltype(rows)::value>(p, in.raw(), out.raw(), i, j,
                                                                     k);
  });
}

// sweep_column through its launch over boxes offset into the grid, as the MPI split makes them,
// with extents that are not multiples of sweep_rows: each cell of the box gets sweep_cell's
// bits, and no other cell, halo included, is written.
template <int Dim, StencilForm Form, Heating Heat>
void expect_columns_write_their_box() {
  Grid g;
  g.dim = Dim;
  g.n = {11, 13, Dim == 3 ? 7 : 1};
  Field in(g, 1), want(g, 1), got(g, 1);
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::generate(in.raw(), in.raw() + in.size(), [&] { return u(rng); });
  cuda::SweepParams all;
  all.w = Weights<double>{0.2, 0.25, 0.15, 0.1, 0.05};
  all.sy = in.stride_y();
  all.sz = in.stride_z();
  all.base = in.offset(0, 0, 0);
  all.dq = 0.125;
  // Columns start at the box's low y. In the whole box (1, 3), the first source by offset, and
  // (8, 7) are on a thread's column's last cell and (6, 12), the last by offset, on a first
  // cell; in the second box (1, 3) and (8, 7) are inside a column. No other source is on the
  // offsets a column spans, so looking for them once per column, one cell short at either end,
  // or taking their range one short, would miss one.
  cuda::add_source(all, in.offset(1, 3, Dim == 3 ? 1 : 0), 2.5);
  cuda::add_source(all, in.offset(8, 7, Dim == 3 ? 3 : 0), 2.5);
  cuda::add_source(all, in.offset(6, 12, Dim == 3 ? 3 : 0), 2.5);
  const index_t top = Dim == 3 ? 1 : 0;
  for (const Box& box : {Box{{0, 0, 0}, {11, 13, g.n[2]}}, Box{{1, 2, top}, {10, 11, g.n[2] - top}},
                         Box{{3, 1, 0}, {4, 13, g.n[2]}}, Box{{0, 12, 0}, {11, 13, 1}}}) {
    const cuda::SweepParams p = cuda::sweep_params_in(all, box);
    std::fill(want.raw(), want.raw() + want.size(), 7.0);
    std::fill(got.raw(), got.raw() + got.size(), 7.0);
    for (index_t k = 0; k < p.n[2]; ++k)
      for (index_t j = 0; j < p.n[1]; ++j)
        for (index_t i = 0; i < p.n[0]; ++i)
          cuda::sweep_cell<Dim, Form, Heat>(p, in.raw(), want.raw(), i, j, k);
    run_columns<Dim, Form, Heat>(cuda::sweep_launch(Dim, p.n), p, in, got);
    EXPECT_TRUE(test::same_bits(std::vector<double>(got.raw(), got.raw() + got.size()),
                                std::vector<double>(want.raw(), want.raw() + want.size())))
        << Dim << "D, box from (" << box.low[0] << ", " << box.low[1] << ", " << box.low[2]
        << ") to (" << box.high[0] << ", " << box.high[1] << ", " << box.high[2] << ")";
  }
}

TEST(CudaKernels, ColumnsWriteTheirBoxAndNothingElse) {
  expect_columns_write_their_box<2, StencilForm::factored, Heating::none>();
  expect_columns_write_their_box<2, StencilForm::expanded, Heating::uniform>();
  expect_columns_write_their_box<3, StencilForm::factored, Heating::none>();
  expect_columns_write_their_box<3, StencilForm::expanded, Heating::uniform>();
}

// An axis's two faces go in one launch, each axis after the one before; Dirichlet faces, whose
// halo holds a constant, only in the first step for each of the two fields.
TEST(CudaKernels, FacesLaunchPerAxisAndDirichletOnlyOncePerField) {
  auto launches = [](const std::string& toml, std::int64_t steps) {
    auto backend = std::make_unique<test::EmulatedCuda>();
    const test::EmulatedCuda* emulated = backend.get();
    Solver s(test::problem(toml), std::move(backend));
    s.step(steps);
    return emulated->launches;
  };
  const std::string grid = test::sizes(2, {13, 9});
  // 2D, Dirichlet: two face launches in each of the first two steps, then sweeps alone.
  EXPECT_EQ(launches(grid, 5), 2 * 2 + 5);
  EXPECT_EQ(launches(grid, 1), 2 + 1);
  // Neumann on one face: every step refills both axes.
  EXPECT_EQ(launches(grid + "boundary.y_high = { type = \"neumann\", gradient = 1.0 }\n", 5),
            5 * (2 + 1));
}

// Under MPI the sweep is split so the exchange overlaps the inner cells: every cell once, and no
// inner cell reads the halo of a face still in flight.
TEST(CudaKernels, OverlapBoxesCoverEveryCellOnce) {
  int checked = 0;
  for (int dim = 1; dim <= 3; ++dim)
    for (const index_t n : {1, 2, 3, 6})
      for (int mask = 0; mask < (1 << (2 * dim)); ++mask) {
        Grid g;
        g.dim = dim;
        g.n = {n, dim >= 2 ? n + 1 : 1, dim == 3 ? n + 2 : 1};
        FaceMask sent{};
        for (int f = 0; f < 2 * dim; ++f)
          sent[f / 2][f % 2] = ((mask >> f) & 1) != 0;
        for (const bool overlap : {true, false}) {
          const cuda::SweepBoxes b = cuda::sweep_boxes(g, sent, overlap);
          std::vector<int> hits(static_cast<std::size_t>(g.cells()), 0);
          std::vector<Box> all = b.shell;
          all.push_back(b.inner);
          for (const Box& box : all)
            for (index_t k = box.low[2]; k < box.high[2]; ++k)
              for (index_t j = box.low[1]; j < box.high[1]; ++j)
                for (index_t i = box.low[0]; i < box.high[0]; ++i)
                  ++hits[static_cast<std::size_t>(i + g.n[0] * (j + g.n[1] * k))];
          for (const int h : hits)
            ASSERT_EQ(h, 1) << "dim " << dim << " n " << n << " mask " << mask;
          for (int a = 0; a < dim && b.inner.count() > 0; ++a) {
            EXPECT_GE(b.inner.low[a], sent[a][0] ? 1 : 0);
            EXPECT_LE(b.inner.high[a], g.n[a] - (sent[a][1] ? 1 : 0));
          }
          if (!overlap) {
            EXPECT_EQ(b.inner.count(), 0);
          }
          ++checked;
        }
      }
  EXPECT_EQ(checked, 2 * 4 * (4 + 16 + 64));
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
  // Periodic faces sent as packed layers, as under MPI: the two streams, the pinned buffers
  // and the overlap on the device.
  for (const test::Case& c : periodic_cases()) {
    SCOPED_TRACE("layers sent: " + c.name + ":\n" + c.toml);
    const Problem p = test::problem(c.toml);
    EXPECT_TRUE(test::same_bits(
        run(p, make_backend("cuda"), std::make_shared<test::LoopbackDomain>(p.grid)),
        run(p, make_backend("serial"))));
  }
  // The case study at a size the device fills, with its statistics reduced on the device.
  const Problem study = test::problem("preset = \"stencil\"\nn = 1200\nsteps = 50\n");
  EXPECT_TRUE(
      test::same_bits(run(study, make_backend("cuda")), run(study, make_backend("serial"))));
  expect_same_stats(final_stats(study, make_backend("cuda")),
                    final_stats(study, make_backend("serial")));
}

}  // namespace
}  // namespace calor
