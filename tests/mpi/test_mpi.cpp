// Domain decomposition must not change the arithmetic: at every rank count, for every case and
// backend, the gathered field equals the single-process reference bit for bit.
// Run under mpiexec -n P (CTest does so for P = 1, 2, 3, 4, 6, 7).

#include <gtest/gtest.h>
#include <mpi.h>
#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <random>
#include <tuple>

#include "../unit/cases.hpp"
#include "../unit/emulated_cuda.hpp"
#include "../unit/helpers.hpp"
#include "calor/error.hpp"
#include "calor/machine.hpp"
#include "calor/npy.hpp"
#include "calor/output.hpp"
#include "calor/run.hpp"
#include "parallel/mpi_domain.hpp"

namespace calor {
namespace {

// MPI_COMM_WORLD as a calor::Comm, for the outputs' collectives.
const Comm& world() {
  static const Comm c = Comm::from_handle(MPI_Comm_c2f(MPI_COMM_WORLD));
  return c;
}

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int world_size() {
  int s = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

// The same pseudo-random global field on every rank.
std::vector<double> random_field(const Grid& g) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> v(static_cast<std::size_t>(g.cells()));
  for (double& x : v)
    x = u(rng);
  return v;
}

void set_global(Solver& s, const std::vector<double>& global) {
  const Box b = s.domain().box();
  const Grid& g = s.problem().grid;
  for_each_cell(s.field().grid(), [&](index_t i, index_t j, index_t k) {
    const index_t gi = i + b.low[0], gj = j + b.low[1], gk = k + b.low[2];
    s.field()(i, j, k) = global[static_cast<std::size_t>(gi + g.n[0] * (gj + g.n[1] * gk))];
  });
}

// Every rank runs the reference itself (cheap at these sizes) and compares on rank 0.
std::vector<double> reference(const Problem& p) {
  Solver s(p, make_backend("serial"));
  set_global(s, random_field(p.grid));
  s.step(p.steps);
  return s.gather();
}

std::vector<double> distributed(const Problem& p, const std::string& backend, int threads,
                                int depth = 0, int width = 0) {
  auto d = std::make_shared<MpiDomain>(p.grid, p.boundaries, MPI_COMM_WORLD);
  Solver s(p, make_backend(backend, BackendOptions{threads, depth, width}), d);
  set_global(s, random_field(p.grid));
  s.step(p.steps / 3);
  s.step(p.steps - p.steps / 3);
  return s.gather();
}

// True on every rank when rank 0 saw identical bits (so that all ranks agree on the verdict).
::testing::AssertionResult same_everywhere(const std::vector<double>& a,
                                           const std::vector<double>& b) {
  int ok = 1;
  std::string why;
  if (world_rank() == 0) {
    const auto r = test::same_bits(a, b);
    ok = r ? 1 : 0;
    why = r.message();
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << why;
}

// Does the grid split over this many ranks? (MpiDomain refuses, on every rank, if not.)
bool splits(const Problem& p) {
  try {
    MpiDomain d(p.grid, p.boundaries, MPI_COMM_WORLD);
    return true;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fewer ranks"), std::string::npos) << e.what();
    return false;
  }
}

TEST(Mpi, EveryCaseAndBackendMatchesTheReference) {
  int compared = 0, skipped = 0;
  for (const test::Case& c : test::cases()) {
    SCOPED_TRACE(c.name + " on " + std::to_string(world_size()) + " ranks:\n" + c.toml);
    const Problem p = test::problem(c.toml);
    if (!splits(p)) {
      ++skipped;
      continue;
    }
    const auto ref = reference(p);
    // tiled with depth k exchanges a k-wide halo every k steps (communication-avoiding mode);
    // with a tile width, in strips (2D: of columns, 3D: of y-rows) over the widened region.
    for (const auto& [backend, threads, depth, width] :
         std::vector<std::tuple<std::string, int, int, int>>{{"serial", 1, 0, 0},
                                                             {"simd", 1, 0, 0},
                                                             {"threads", 2, 0, 0},
                                                             {"tiled", 2, 0, 0},
                                                             {"tiled", 1, 1, 0},
                                                             {"tiled", 2, 2, 0},
                                                             {"tiled", 1, 4, 0},
                                                             {"tiled", 2, 3, 2},
                                                             {"tiled", 3, 4, 5}}) {
      EXPECT_TRUE(same_everywhere(distributed(p, backend, threads, depth, width), ref))
          << backend << " depth " << depth << " width " << width;
      ++compared;
    }
  }
  if (world_rank() == 0)
    std::printf("%d ranks: %d comparisons, %d cases too small to split\n", world_size(), compared,
                skipped);
  EXPECT_GT(compared, 40);
}

// Where the last level is fast, 2D strips step in place (one field, the cells a strip and the
// rows above a unit overwrote kept aside): the same bits at every rank count, over the region
// widened into exchanged halos, with physical faces of every kind, variable alpha, and point
// sources on the ranks' edges; odd and even depths, 1 and 2 threads.
TEST(Mpi, TiledStripsInPlaceMatchTheReference) {
  struct MeasuredLlcSpeedAfter {  // the machine's own measurement back when the test ends
    ~MeasuredLlcSpeedAfter() { use_llc_sweep_speed(-1); }
  } const measured;
  use_llc_sweep_speed(1.0);
  const std::string points =
      "[sources]\nvolumetric = 0.1\npoints = [{ at = [0, 0], energy = 1.5 }, "
      "{ at = [47, 30], energy = 2.0 }, { at = [48, 31], energy = 0.5 }, "
      "{ at = [95, 60], energy = 1.0 }]\n";
  for (const std::string& faces :
       {std::string(), std::string("boundary.x = \"periodic\"\nboundary.y_low = \"neumann\"\n"),
        std::string("boundary.x_low = { type = \"robin\", h = 0.5, ambient = 1.0 }\n"
                    "boundary.y = \"periodic\"\n"),
        std::string("boundary.x = \"periodic\"\ndiffusivity = { type = \"box\", lo = [20.0, 10.0], "
                    "hi = [70.0, 45.0], inside = 0.1 }\n")}) {
    const Problem p = test::problem("n = [96, 61]\nsteps = 17\n" + faces + points);
    SCOPED_TRACE(faces + " on " + std::to_string(world_size()) + " ranks");
    if (!splits(p)) continue;
    const auto ref = reference(p);
    for (const auto& [threads, depth, width] :
         std::vector<std::tuple<int, int, int>>{{1, 3, 8}, {2, 4, 8}, {2, 5, 12}, {1, 6, 0}})
      EXPECT_TRUE(same_everywhere(distributed(p, "tiled", threads, depth, width), ref))
          << threads << " threads, depth " << depth << ", width " << width;
  }
}

// The cuda backend under MPI: physical faces filled by its kernels, exchanged faces packed,
// sent through the domain's halo (from pinned host buffers, or from the device buffers as with a
// CUDA-aware MPI) and unpacked, the inner cells updated meanwhile. Its launches, run on the CPU
// with each of the two streams running ahead, give the reference's bits at this rank count
// (the device itself is checked by scripts/gpu-check.sh). One run turns the overlap off.
TEST(Mpi, CudaLaunchesWithTheLayersExchangedMatchTheReference) {
  struct Variant {
    test::Order order;
    bool direct, overlap;
  };
  const Variant variants[] = {{test::Order::compute_first, false, true},
                              {test::Order::comm_first, false, true},
                              {test::Order::comm_first, true, true},
                              {test::Order::compute_first, false, false}};
  int compared = 0;
  for (const test::Case& c : test::cases()) {
    SCOPED_TRACE(c.name + " on " + std::to_string(world_size()) + " ranks:\n" + c.toml);
    const Problem p = test::problem(c.toml);
    if (!splits(p)) continue;
    const auto ref = reference(p);
    for (const Variant& v : variants) {
      if (!v.overlap) setenv("CALOR_OVERLAP", "0", 1);
      auto d = std::make_shared<MpiDomain>(p.grid, p.boundaries, MPI_COMM_WORLD);
      Solver s(p, std::make_unique<test::EmulatedCuda>(v.order, v.direct), d);
      unsetenv("CALOR_OVERLAP");
      set_global(s, random_field(p.grid));
      s.step(p.steps / 3);
      s.step(p.steps - p.steps / 3);
      EXPECT_TRUE(same_everywhere(s.gather(), ref))
          << (v.order == test::Order::comm_first ? "comm first" : "compute first")
          << (v.direct ? ", device buffers to MPI" : "") << (v.overlap ? "" : ", no overlap");
      ++compared;
    }
  }
  EXPECT_GT(compared, 80);
}

TEST(Mpi, SourcesOnBlockEdgesAndCorners) {
  // A source on every other cell: whatever the split, many sit on block edges and corners.
  for (int dim : {1, 2, 3}) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    const int n = dim == 3 ? 11 : dim == 2 ? 23 : 61;
    std::string points = "points = [";
    for (int k = 0; k < (dim == 3 ? n : 1); k += 2)
      for (int j = 0; j < (dim >= 2 ? n : 1); j += 2)
        for (int i = 0; i < n; i += 2) {
          points += "{ at = [" + std::to_string(i);
          if (dim >= 2) points += ", " + std::to_string(j);
          if (dim >= 3) points += ", " + std::to_string(k);
          points += "], energy = " + std::to_string(0.1 + 0.01 * i) + " },";
        }
    points.back() = ']';
    const Problem p =
        test::problem("dim = " + std::to_string(dim) + "\nn = " + std::to_string(n) +
                      "\nsteps = 9\nboundary.all = \"periodic\"\n[sources]\n" + points + "\n");
    if (!splits(p)) continue;
    const auto ref = reference(p);
    EXPECT_TRUE(same_everywhere(distributed(p, "simd", 1), ref));
    EXPECT_TRUE(same_everywhere(distributed(p, "threads", 2), ref));
    for (int k : {2, 4})
      EXPECT_TRUE(same_everywhere(distributed(p, "tiled", 2, k), ref)) << k;
    EXPECT_TRUE(same_everywhere(distributed(p, "tiled", 2, 3, 2), ref)) << "width 2";
  }
}

TEST(Mpi, CaseStudyHeatAndBits) {
  const Problem p = test::problem("preset = \"stencil\"\nn = 97\nsteps = 10\n");
  auto d = std::make_shared<MpiDomain>(p.grid, p.boundaries, MPI_COMM_WORLD);
  Solver s(p, make_backend("simd"), d);
  s.step(p.steps);
  const Stats st = s.stats();
  EXPECT_NEAR(st.heat, 30.0, 1e-12);
  Solver r(p, make_backend("serial"));
  r.step(p.steps);
  EXPECT_TRUE(same_everywhere(s.gather(), r.gather()));
  EXPECT_NEAR(st.l2, r.stats().l2, 1e-13 * r.stats().l2);
  EXPECT_EQ(st.max, r.stats().max);
}

#ifdef CALOR_HAVE_HDF5
// A checkpoint written at one rank count and read at another continues bit for bit: the
// decomposition never changes the arithmetic. Rank 0 alone stands in for the other count.
TEST(Mpi, RestartAcrossRankCounts) {
  const Problem p = test::problem(
      "dim = 2\nn = [41, 23]\nsteps = 30\nboundary = { y = \"periodic\" }\n"
      "sources = { points = [{ at = [20, 11], energy = 2.0 }] }\n");
  const std::string file = "/tmp/calor_mpi_restart_" + std::to_string(world_size()) + ".h5";
  for (const std::string backend : {"serial", "simd", "threads", "tiled"}) {
    SCOPED_TRACE(backend);
    const auto ref = reference(p);
    // Written by all ranks, continued by rank 0 alone.
    {
      auto d = std::make_shared<MpiDomain>(p.grid, p.boundaries, MPI_COMM_WORLD);
      Solver s(p, make_backend(backend, BackendOptions{1, 0}), d);
      set_global(s, random_field(p.grid));
      s.step(11);
      test::write_checkpoint(s, file, world());
    }
    std::vector<double> alone;
    if (world_rank() == 0) {
      Solver s(p, make_backend(backend, BackendOptions{1, 0}));
      SCOPED_TRACE("written by all ranks, read by rank 0");
      test::restore_checkpoint(s, file, false);
      s.step(p.steps - s.step_count());
      alone = s.gather();
    }
    EXPECT_TRUE(same_everywhere(alone, ref));
    // Written by rank 0 alone, continued by all ranks.
    if (world_rank() == 0) {
      Solver s(p, make_backend(backend, BackendOptions{1, 0}));
      set_global(s, random_field(p.grid));
      s.step(7);
      test::write_checkpoint(s, file);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    auto d = std::make_shared<MpiDomain>(p.grid, p.boundaries, MPI_COMM_WORLD);
    Solver s(p, make_backend(backend, BackendOptions{1, 0}), d);
    SCOPED_TRACE("written by rank 0, read by all ranks");
    test::restore_checkpoint(s, file, false, world());
    EXPECT_EQ(s.step_count(), 7);
    s.step(p.steps - s.step_count());
    EXPECT_TRUE(same_everywhere(s.gather(), ref));
  }
  if (world_rank() == 0) {
    std::remove(file.c_str());
    std::remove((file + ".prev").c_str());
  }
}
#endif

// A node's CPUs are its ranks' affinity masks together: each rank pinned to one CPU of its
// mask, the Comm counts the distinct CPUs they were pinned to, not one.
TEST(Mpi, NodeCoresAreTheRanksMasksTogether) {
  cpu_set_t before;
  ASSERT_EQ(sched_getaffinity(0, sizeof before, &before), 0);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &before)) cpus.push_back(c);
  const int mine = cpus[static_cast<std::size_t>(world_rank()) % cpus.size()];
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(mine, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  const Comm c = Comm::from_handle(MPI_Comm_c2f(MPI_COMM_WORLD));
  ASSERT_EQ(sched_setaffinity(0, sizeof before, &before), 0);
  std::vector<int> all(static_cast<std::size_t>(world_size()));
  MPI_Allgather(&mine, 1, MPI_INT, all.data(), 1, MPI_INT, MPI_COMM_WORLD);
  std::sort(all.begin(), all.end());
  const auto distinct = std::unique(all.begin(), all.end()) - all.begin();
  EXPECT_EQ(c.node_cores(), static_cast<int>(distinct));  // the test's ranks share one node
  EXPECT_EQ(c.local_size(), world_size());
}

TEST(Mpi, TooManyRanksIsAClearError) {
  if (world_size() < 2) GTEST_SKIP() << "needs 2 ranks";
  const Problem p = test::problem("dim = 2\nn = [1, 1]\n");
  try {
    MpiDomain d(p.grid, p.boundaries, MPI_COMM_WORLD);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("cannot split 1 cells"), std::string::npos) << m;
    EXPECT_NE(m.find("fewer ranks"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace calor

namespace calor {
namespace {

// A set-up failure on one rank only (an unreadable file that rank alone sees) ends with the same
// Error on every rank, naming the failing rank: no rank is left waiting in a collective.
TEST(Mpi, SetUpFailureOnOneRankIsEveryRanksError) {
  if (world_size() < 2) GTEST_SKIP() << "needs 2 ranks";
  const Comm& comm = world();
  const std::string toml = "preset = \"stencil\"\nn = 40\nsteps = 10\n";
  const std::string file = "/tmp/calor_mpi_one_rank_" + std::to_string(world_size()) + ".h5";
  {
    calor::Run run(load_config(toml, "test"), comm);
    run.advance(4);
    write_checkpoint(run.state(), file);
  }
  auto expect_rank1 = [&](const std::function<void()>& f, const std::string& what) {
    try {
      f();
      ADD_FAILURE() << "no error on rank " << world_rank();
    } catch (const Error& e) {
      EXPECT_EQ(e.rank(), 1);
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  // A restart whose checkpoint rank 1 cannot open.
  RunOptions o;
  o.restart = world_rank() == 1 ? "/tmp/calor_no_such_checkpoint.h5" : file;
  expect_rank1([&] { calor::Run run(load_config(toml, "test"), comm, o); },
               "calor_no_such_checkpoint");
  // An initial field rank 1 cannot read.
  const std::string npy = world_rank() == 1 ? "/tmp/calor_no_such_field.npy" : "";
  if (world_rank() != 1) {
    std::vector<double> zeros(40 * 40, 0.0);
    save_npy("/tmp/calor_mpi_field_" + std::to_string(world_rank()) + ".npy", {40, 40},
             zeros.data());
  }
  const std::string path =
      world_rank() == 1 ? npy : "/tmp/calor_mpi_field_" + std::to_string(world_rank()) + ".npy";
  expect_rank1(
      [&] {
        calor::Run run(
            load_config(toml + "initial = { type = \"npy\", path = \"" + path + "\" }\n", "test"),
            comm);
      },
      "calor_no_such_field");
  MPI_Barrier(MPI_COMM_WORLD);
  if (world_rank() == 0) std::remove(file.c_str());
}

}  // namespace
}  // namespace calor
