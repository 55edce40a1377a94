// Every backend performs the reference's operations in the reference's order, so every backend
// must give the reference's final field bit for bit: for 1D, 2D and 3D, every boundary mix,
// sources, tiny and odd sizes, 1 to 3 threads, and step counts that are not multiples of the tile
// depth. No tolerance anywhere in this file.

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <tuple>

#include "backends/registry.hpp"
#include "backends/sweep.hpp"
#include "calor/error.hpp"
#include "calor/machine.hpp"
#include "calor/run.hpp"
#include "cases.hpp"
#include "helpers.hpp"

namespace calor {
namespace {

struct Variant {
  std::string backend;
  int threads;
  int depth;
  int width = 0;  // tiled: columns (2D) or y-rows (3D) per strip (0 = automatic)
};

const std::vector<Variant> kVariants = {
    {"simd", 1, 0},     {"threads", 1, 0},  {"threads", 2, 0},   {"threads", 3, 0},
    {"tiled", 1, 0},    {"tiled", 2, 0},    {"tiled", 3, 0},     {"tiled", 1, 2},
    {"tiled", 2, 3},    {"tiled", 3, 5},    {"tiled", 2, 1},     {"tiled", 1, 3, 2},
    {"tiled", 2, 2, 3}, {"tiled", 3, 5, 4}, {"tiled", 2, 4, 16},
};

// Runs `p` from a random initial field (the same for every backend) and returns the interior.
std::vector<double> run(const Problem& p, const Variant& v) {
  Solver s(p, make_backend(v.backend, BackendOptions{v.threads, v.depth, v.width}));
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for_each_cell(p.grid, [&](index_t i, index_t j, index_t k) { s.field()(i, j, k) = u(rng); });
  // Two calls, so that a backend's state across calls is exercised too.
  s.step(p.steps / 2);
  s.step(p.steps - p.steps / 2);
  return test::interior(s.field());
}

// Threads per rank by default: an even share of the CPUs the node's ranks may run on between
// them, at most a rank's own; oversubscribed beyond either.
TEST(Machine, ThreadsPerRankShareTheNodeAndKeepABoundRanksCores) {
  EXPECT_EQ(threads_per_rank(16, 16, 2), 8);  // unbound ranks split the node
  EXPECT_EQ(threads_per_rank(8, 16, 2), 8);   // bound to 8 cores each: all of them
  EXPECT_EQ(threads_per_rank(1, 2, 2), 1);    // bound to a core each (Open MPI, 2 ranks)
  EXPECT_EQ(threads_per_rank(2, 2, 3), 1);    // more ranks than cores: still one
  EXPECT_FALSE(oversubscribed(1, 2, 1, 2));   // the device machine's 2 bound ranks
  EXPECT_TRUE(oversubscribed(2, 2, 1, 2));    // 2 threads in a rank bound to 1 core
  EXPECT_TRUE(oversubscribed(1, 3, 2, 2));    // 3 unbound ranks on 2 cores
  EXPECT_FALSE(oversubscribed(2, 1, 2, 2));
  std::vector<unsigned char> mask(16, 0);
  mask[0] = 0x05;
  mask[3] = 0x80;
  EXPECT_EQ(cpus_in(mask), 3);
  EXPECT_EQ(cpus_in(affinity_mask()), available_cores());
}

TEST(Backends, AllMatchTheReferenceBitForBit) {
  int compared = 0;
  for (const test::Case& c : test::cases()) {
    SCOPED_TRACE(c.name + ":\n" + c.toml);
    Problem p;
    try {
      p = test::problem(c.toml);
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
    const auto reference = run(p, {"serial", 1, 0});
    for (const Variant& v : kVariants) {
      SCOPED_TRACE(v.backend + " threads=" + std::to_string(v.threads) +
                   " depth=" + std::to_string(v.depth) + " width=" + std::to_string(v.width));
      EXPECT_TRUE(test::same_bits(run(p, v), reference));
      ++compared;
    }
  }
  EXPECT_EQ(compared, static_cast<int>(test::cases().size() * kVariants.size()));
}

TEST(Backends, CaseStudyMatchesAcrossBackendsAndDepths) {
  // Enough steps for several blocks, and a last block shorter than the others.
  const Problem p = test::problem("preset = \"stencil\"\nn = 301\nsteps = 37\n");
  const auto reference = run(p, {"serial", 1, 0});
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(v.backend + " threads=" + std::to_string(v.threads) +
                 " depth=" + std::to_string(v.depth));
    EXPECT_TRUE(test::same_bits(run(p, v), reference));
  }
  for (int depth : {4, 8, 16, 36, 37, 64})
    EXPECT_TRUE(test::same_bits(run(p, {"tiled", 2, depth}), reference)) << "depth " << depth;
  // Column strips: narrow and wide, fewer and more strips than threads, a last strip wider
  // than the others (301 is not a multiple of any width here).
  for (int width : {2, 7, 32, 100, 150})
    for (int threads : {1, 2, 3})
      for (int depth : {3, 16})
        EXPECT_TRUE(test::same_bits(run(p, {"tiled", threads, depth, width}), reference))
            << "width " << width << " threads " << threads << " depth " << depth;
}

// Gives llc_sweep_speed() back its own measurement when a test that set one ends.
struct MeasuredLlcSpeedAfter {
  MeasuredLlcSpeedAfter() = default;
  MeasuredLlcSpeedAfter(const MeasuredLlcSpeedAfter&) = delete;
  MeasuredLlcSpeedAfter& operator=(const MeasuredLlcSpeedAfter&) = delete;
  ~MeasuredLlcSpeedAfter() { use_llc_sweep_speed(-1); }
};

// In 2D at two threads or more each thread takes a band of rows, the bands meeting in wedges
// computed after a barrier, where every band has room for its trapezoid (2 depth + 2 rows);
// else, and at one thread, the strips are pipelined. Either way the reference's bits, with the
// sources in a band, on a band's edge and in a wedge, and a Neumann face refilled as it goes.
TEST(Backends, TiledThreadsTakeBandsOfRowsIn2D) {
  // Two-row units, where the last level is slow (in place: TiledStripsStepInPlace...).
  const MeasuredLlcSpeedAfter measured;
  use_llc_sweep_speed(0.4);
  const auto plan_and_bits = [](const std::string& toml, int threads, int depth) {
    const Problem p = test::problem(toml);
    Solver s(p, make_backend("tiled", BackendOptions{threads, depth, 16}));
    s.step(p.steps);
    const auto reference = run(p, {"serial", 1, 0});
    const auto got = run(p, {"tiled", threads, depth, 16});
    EXPECT_TRUE(test::same_bits(got, reference)) << toml << threads << " threads, depth " << depth;
    return s.backend().plan();
  };
  const std::string sources =
      "steps = 23\nboundary.y_high = \"neumann\"\n[sources]\nvolumetric = 0.2\n"
      "points = [{ at = [10, 20], energy = 1.5 }, { at = [30, 30], energy = 2.0 },"
      " { at = [40, 31], energy = 0.5 }]\n";
  const char* banded = "each thread a band of rows";
  // 61 rows: bands of 30 and 31 (31 and 30 at three threads: 20, 20, 21), the first boundary
  // at row 30 with a source on it and one beside it in the wedge.
  for (const auto& [threads, depth] : std::vector<std::pair<int, int>>{{2, 4}, {2, 14}, {3, 8}})
    EXPECT_NE(plan_and_bits("n = [64, 61]\n" + sources, threads, depth).find(banded),
              std::string::npos)
        << threads << " threads, depth " << depth;
  // Too few rows for two trapezoids of depth 15 (30 < 32), and one thread: pipelined strips.
  EXPECT_EQ(plan_and_bits("n = [64, 61]\n" + sources, 2, 15).find(banded), std::string::npos);
  EXPECT_EQ(plan_and_bits("n = [64, 61]\n" + sources, 1, 4).find(banded), std::string::npos);
}

TEST(Backends, TiledStripsOf3DRowsMatchTheReference) {
  // 3D blocks run in strips of y-rows: few and many strips, fewer and more than the threads, a
  // last strip wider than the others, depths that do and do not divide the steps; with a point
  // source and a uniform one, Dirichlet faces (strips) and periodic ones (the widened region).
  for (const char* faces : {"", "boundary.y = \"periodic\"\nboundary.z = \"periodic\"\n",
                            "boundary.x = \"periodic\"\n"}) {
    const Problem p = test::problem(std::string("dim = 3\nn = [41, 37, 23]\nsteps = 19\n") + faces +
                                    "[sources]\nvolumetric = 0.3\n"
                                    "points = [{ at = [20, 18, 11], energy = 2.0 }]\n");
    SCOPED_TRACE(faces);
    const auto reference = run(p, {"serial", 1, 0});
    for (int width : {0, 2, 5, 13, 18})
      for (int threads : {1, 2, 3})
        for (int depth : {0, 3, 8})
          EXPECT_TRUE(test::same_bits(run(p, {"tiled", threads, depth, width}), reference))
              << "width " << width << " threads " << threads << " depth " << depth;
  }
}

TEST(Backends, TiledStripsRefillNeumannAndRobinHalosAsTheyGo) {
  // A Neumann or Robin face's halo is refilled by the strip that computed the cells next to it,
  // before the next step reads it: 2D and 3D, strips narrower and wider than the depth, 1 to 3
  // threads, a Dirichlet face beside (no refill) and a periodic one (the widened region).
  const char* faces =
      "boundary.x_low = \"neumann\"\nboundary.x_high = { type = \"robin\", h = 0.5, "
      "ambient = 1.0 }\nboundary.y = \"periodic\"\n";
  for (const std::string& grid :
       {std::string("dim = 2\nn = [203, 57]\n"), std::string("dim = 3\nn = [37, 29, 23]\n")}) {
    const Problem p = test::problem(grid + "steps = 23\n" + faces +
                                    "boundary.z = \"neumann\"\n[sources]\nvolumetric = 0.2\n");
    SCOPED_TRACE(grid);
    const auto reference = run(p, {"serial", 1, 0});
    for (int width : {0, 2, 7, 13})
      for (int threads : {1, 3})
        for (int depth : {0, 4, 9})
          EXPECT_TRUE(test::same_bits(run(p, {"tiled", threads, depth, width}), reference))
              << "width " << width << " threads " << threads << " depth " << depth;
  }
}

TEST(Backends, TiledDepthKeepsTheRedundantWorkOfExchangedFacesSmall) {
  // Towards an exchanged face a block also computes its halo layers. Six periodic faces of a
  // 64^3 block: 16 steps deep that was 70% more work than the block's own; the depth is cut
  // to 1 + 0.2 / (6 / 64) = 3. With Dirichlet faces nothing is redundant: the 3D depth, 16 or
  // more (the planes of 64^3 are small enough for 39).
  const std::string cube = "dim = 3\nn = 64\nsteps = 1\n";
  EXPECT_EQ(Solver(test::problem(cube + "boundary.all = \"periodic\"\n"), make_backend("tiled"))
                .steps_per_pass(),
            3);
  EXPECT_GE(Solver(test::problem(cube), make_backend("tiled")).steps_per_pass(), 16);
  // The user's depth is kept.
  EXPECT_EQ(Solver(test::problem(cube + "boundary.all = \"periodic\"\n"),
                   make_backend("tiled", BackendOptions{1, 9}))
                .steps_per_pass(),
            9);
}

TEST(Backends, RunTakesWholeTiledBlocksPerChunk) {
  // The run loop's chunks are whole blocks of the tiled backend (a chunk cut inside a block
  // would run it shallower), the result is still the reference's, and a plain sweep keeps
  // chunks growing from one step.
  const std::string toml =
      "preset = \"stencil\"\nn = 96\nsteps = 53\nthreads = 2\n"
      "tile_depth = 5\ncheck_every = 0\n";
  const Problem p = test::problem(toml);
  Solver reference(p, make_backend("serial"));
  reference.step(p.steps);
  for (const auto& [backend, pass] :
       std::vector<std::pair<std::string, int>>{{"tiled", 5}, {"simd", 1}}) {
    SCOPED_TRACE(backend);
    RunOptions o;
    o.chunk_seconds = 1e9;  // an interval far longer than the run: chunks only grow
    std::vector<std::int64_t> ends;
    o.progress = [&](const RunProgress& pr) { ends.push_back(pr.step); };
    calor::Run r(load_config(toml, "test.toml", {{"backend", backend, "test"}}), Comm(), o);
    EXPECT_EQ(r.steps_per_pass(), pass);
    EXPECT_EQ(r.run().end, RunEnd::reached);
    ASSERT_FALSE(ends.empty());
    EXPECT_EQ(ends.back(), p.steps);
    EXPECT_EQ(ends.front(), pass);
    for (std::size_t i = 0; i + 1 < ends.size(); ++i)
      EXPECT_EQ(ends[i] % pass, 0) << "chunk " << i << " ends at step " << ends[i];
    EXPECT_TRUE(test::same_bits(test::interior(*r.field()), test::interior(reference.field())));
  }
  // 1D grids do not tile: one step per pass.
  const Problem line = test::problem("preset = \"diffusion1d\"\nsteps = 10\n");
  Solver s(line, make_backend("tiled", BackendOptions{2, 5}));
  EXPECT_EQ(s.steps_per_pass(), 1);
}

// The health check does not cut tiled blocks either: it runs at the end of the first whole block
// at or after each multiple of check_every (a NaN from the start is found by step 10 with blocks
// of 5 and a check every 7 steps, by step 7 with a plain sweep), and a run that checks takes
// whole blocks and keeps the reference's bits.
TEST(Backends, HealthChecksWaitForWholeTiledBlocks) {
  const std::string toml =
      "preset = \"stencil\"\nn = 96\nsteps = 53\nthreads = 2\ntile_depth = 5\ncheck_every = 7\n";
  const Problem p = test::problem(toml);
  Solver reference(p, make_backend("serial"));
  reference.step(p.steps);
  for (const auto& [backend, pass, caught] :
       std::vector<std::tuple<std::string, int, int>>{{"tiled", 5, 10}, {"simd", 1, 7}}) {
    SCOPED_TRACE(backend);
    RunOptions o;
    o.chunk_seconds = 1e9;
    std::vector<std::int64_t> ends;
    o.progress = [&](const RunProgress& pr) { ends.push_back(pr.step); };
    calor::Run r(load_config(toml, "test.toml", {{"backend", backend, "test"}}), Comm(), o);
    EXPECT_EQ(r.run().end, RunEnd::reached);
    for (std::size_t i = 0; i + 1 < ends.size(); ++i)
      EXPECT_EQ(ends[i] % pass, 0) << "chunk " << i << " ends at step " << ends[i];
    EXPECT_TRUE(test::same_bits(test::interior(*r.field()), test::interior(reference.field())));
    calor::Run bad(load_config(toml, "test.toml", {{"backend", backend, "test"}}), Comm(), {});
    std::vector<double> nan(static_cast<std::size_t>(p.grid.cells()), 0.0);
    nan[1234] = std::nan("");
    bad.set_block(nan);
    try {
      bad.run();
      ADD_FAILURE() << "the NaN was not caught";
    } catch (const Error& e) {
      const std::string by = "blew up by step " + std::to_string(caught) + ":";
      EXPECT_NE(std::string(e.what()).find(by), std::string::npos) << e.what();
    }
  }
}

TEST(Backends, AutoPicksAndExplains) {
  Grid small;
  small.n = {64, 64, 1};
  Grid big;
  big.n = {20000, 20000, 1};
  Grid line;
  line.dim = 1;
  line.n = {100000000, 1, 1};
  EXPECT_EQ(auto_backend_choice(big, 2).name, "tiled");
  EXPECT_EQ(auto_backend_choice(small, 2).name, "threads");
  EXPECT_EQ(auto_backend_choice(small, 1).name, "simd");
  const auto c = auto_backend_choice(line, 2);
  EXPECT_EQ(c.name, "threads");
  EXPECT_NE(c.reason.find("1D"), std::string::npos) << c.reason;
}

// The thresholds bench node's auto sweep measured (registry.hpp, prefer_temporal_blocking), on
// grids sized from this machine's caches, for a last-level cache that feeds a plain sweep at its
// in-cache rate and for one that does not.
TEST(Backends, AutoTilesWhereTheSweepMeasuredItFaster) {
  const MeasuredLlcSpeedAfter measured;
  const double llc = static_cast<double>(caches().llc), l2 = static_cast<double>(caches().l2);
  const auto square = [](double bytes) {  // a 2D grid whose two fields take `bytes`
    Grid g;
    const auto n = static_cast<index_t>(std::sqrt(bytes / 16.0));
    g.n = {n, n, 1};
    return g;
  };
  const auto cube = [](double bytes) {
    Grid g;
    g.dim = 3;
    const auto n = static_cast<index_t>(std::cbrt(bytes / 16.0));
    g.n = {n, n, n};
    return g;
  };
  // The probe measured 0.57-1.0 on the AMD EPYC VMs and 0.36-0.45 on the Intel Xeon VM: both
  // ends of each range fall on their own side.
  for (const double epyc : {0.57, 1.0}) {
    use_llc_sweep_speed(epyc);
    EXPECT_TRUE(llc_feeds_sweeps()) << epyc;
  }
  for (const double xeon : {0.36, 0.45}) {
    use_llc_sweep_speed(xeon);
    EXPECT_FALSE(llc_feeds_sweeps()) << xeon;
  }
  // The AMD EPYC's L3:
  use_llc_sweep_speed(1.0);
  EXPECT_EQ(auto_backend_choice(square(0.34 * llc), 1).name, "tiled");  // 844^2 in 32 MiB
  EXPECT_EQ(auto_backend_choice(square(0.26 * llc), 1).name, "simd");   // 738^2
  EXPECT_EQ(auto_backend_choice(square(0.26 * llc), 2).name, "threads");
  EXPECT_EQ(auto_backend_choice(square(0.34 * llc), 2).name, "tiled");
  // 3D: tiled but for 0.1-0.36 of the LLC at one thread and up to 0.48 at two.
  EXPECT_EQ(auto_backend_choice(cube(0.3 * llc), 1).name, "simd");  // 88^3 in 32 MiB
  EXPECT_EQ(auto_backend_choice(cube(0.45 * llc), 1).name, "tiled");
  EXPECT_EQ(auto_backend_choice(cube(0.01 * llc), 1).name, "tiled");
  EXPECT_EQ(auto_backend_choice(cube(0.01 * llc), 2).name, "threads");  // 28^3
  EXPECT_EQ(auto_backend_choice(cube(0.06 * llc), 2).name, "threads");  // 48^3
  EXPECT_EQ(auto_backend_choice(cube(0.42 * llc), 2).name, "threads");  // 96^3
  EXPECT_EQ(auto_backend_choice(cube(0.55 * llc), 2).name, "tiled");    // 104^3
  // The Intel Xeon's L3, at 0.4-0.5 of the L2's rate: the L2 decides. (Only where the last
  // level is large enough for the two rules to differ.)
  use_llc_sweep_speed(0.4);
  EXPECT_FALSE(llc_feeds_sweeps());
  if (llc >= 16 * l2) {
    EXPECT_EQ(auto_backend_choice(square(0.8 * l2), 1).name, "simd");
    EXPECT_EQ(auto_backend_choice(square(1.0 * l2), 1).name, "tiled");  // 360^2 in 2 MiB
    EXPECT_EQ(auto_backend_choice(square(0.35 * llc), 1).name, "tiled");
    if (!barrier_bound(square(1.8 * l2), 2)) {  // a small L2 makes it barrier_bound (below)
      EXPECT_EQ(auto_backend_choice(square(1.8 * l2), 2).name, "threads");  // 480^2 in 2 x 2 MiB
    }
    EXPECT_EQ(auto_backend_choice(square(2.0 * l2), 2).name, "tiled");  // 512^2
    EXPECT_EQ(auto_backend_choice(cube(0.15 * llc), 2).name, "tiled");
  }
  // Below that, at two threads, where a plain sweep waits at its barrier more than it sweeps:
  // a thread's share of at most 40000 cells, in rows enough for tiled's bands and strips.
  const auto edge = [](index_t nx, index_t ny) {
    Grid g;
    g.n = {nx, ny, 1};
    return g;
  };
  const double b300 = 16.0 * 300 * 300;  // bytes of 300^2: under the L2 rule at two threads
  if (1.9 * l2 > b300 && 0.8 * llc > b300) {
    EXPECT_EQ(auto_backend_choice(edge(256, 256), 2).name, "tiled");
    EXPECT_NE(auto_backend_choice(edge(256, 256), 2).reason.find("barrier"), std::string::npos);
    EXPECT_EQ(auto_backend_choice(edge(160, 160), 2).name, "tiled");
    EXPECT_EQ(auto_backend_choice(edge(300, 300), 2).name, "threads");  // 45000 cells a thread
    EXPECT_EQ(auto_backend_choice(edge(128, 128), 2).name, "threads");  // 64 rows a thread
    EXPECT_EQ(auto_backend_choice(edge(48, 1600), 2).name, "threads");  // too narrow for strips
    EXPECT_EQ(auto_backend_choice(edge(160, 160), 3).name, "threads");  // measured at two only
    if (0.9 * l2 > 16.0 * 256 * 256) {
      EXPECT_EQ(auto_backend_choice(edge(256, 256), 1).name, "simd");
    }
    use_llc_sweep_speed(1.0);  // where the last level is fast (unmeasured there): unchanged
    EXPECT_EQ(auto_backend_choice(edge(256, 256), 2).name, "threads");
  }
}

// The measured ratio is a plausible one (a timing on a noisy machine: no exact value), and
// use_llc_sweep_speed replaces it until a negative speed gives the measurement back.
TEST(Backends, LastLevelSpeedIsMeasuredOnceAndCanBeAgreed) {
  const double measured = llc_sweep_speed();
  EXPECT_GT(measured, 0.02);
  EXPECT_LT(measured, 4.0);
  EXPECT_EQ(llc_sweep_speed(), measured);  // once per process
  use_llc_sweep_speed(0.3);
  EXPECT_EQ(llc_sweep_speed(), 0.3);
  EXPECT_FALSE(llc_feeds_sweeps());
  use_llc_sweep_speed(-1);
  EXPECT_EQ(llc_sweep_speed(), measured);
}

// Plain sweeps take streaming stores past the last-level cache, and past kSlowLlcStreamShare of
// it where that cache is slow (such a sweep already runs at memory's pace there), never below
// that share; a tiled block's last step only past the whole of a fast one.
TEST(Backends, SweepsStreamPastPartOfASlowLastLevel) {
  const MeasuredLlcSpeedAfter measured;
  const double llc = static_cast<double>(caches().llc), share = detail::kSlowLlcStreamShare;
  for (const double speed : {1.0, 0.4}) {
    use_llc_sweep_speed(speed);
    const bool slow = speed < kFastLlc;
    // A plain sweep: past the whole last level, and past a share of a slow one.
    EXPECT_FALSE(detail::should_stream(0.95 * share * llc)) << speed;
    EXPECT_EQ(detail::should_stream(1.05 * share * llc), slow) << speed;
    EXPECT_EQ(detail::should_stream(0.95 * llc), slow) << speed;
    EXPECT_TRUE(detail::should_stream(1.05 * llc)) << speed;
    // A tiled block's last step: past the whole of a fast last level only.
    for (const double part : {0.95 * share, 1.05 * share, 0.95, 1.05, 8.0})
      EXPECT_EQ(detail::should_stream(part * llc, true), !slow && part > 1) << speed << " " << part;
  }
}

// Segment [i0, i1) of row (1, k) of fields shaped by `g` (halo 8, every value random; k = 1 in
// 3D, row 0 in 1D), for every i0 <= i1 in [-7, n + 7]: each vector kernel (one row; two and four
// rows from dim 2; with aligned or streaming stores) gives the scalar row's bits in the segment and
// writes nothing around it. Leaning strips and widened regions start and end their rows anywhere,
// and the kernels peel the cells before the first aligned output and after the last whole vector.
template <class S>
void check_row_segments(const Grid& g) {
  std::vector<Field> f;  // the input, the three face fields, the heat field
  for (unsigned i = 0; i < 5; ++i) {
    f.emplace_back(g, 8);
    const std::vector<double> v =
        test::random_field(Grid{1, {f.back().size(), 1, 1}}, 10 + i, i > 0 ? 0.5 : -1.0, 1.0);
    std::copy(v.begin(), v.end(), f.back().raw());
  }
  Field out(g, 8), want(g, 8);
  const index_t at = f[0].offset(0, g.dim >= 2 ? 1 : 0, g.dim == 3 ? 1 : 0), sy = f[0].stride_y();
  // The whole field is compared: no cell outside the segment may change.
  const index_t lo = 0, hi = f[0].size();
  auto row = [&](Field& o) {
    detail::Row r{f[0].raw() + at, o.raw() + at, sy, f[0].stride_z(), {}, f[4].raw() + at};
    for (int a = 0; a < 3; ++a)
      r.f.k[a] = f[1 + a].raw() + at;
    return r;
  };
  const Coefficients c{0.5, 0.125, {0.1, 0.2, 0.05}};
  const auto w = Weights<double>::from(c);
  const auto wv = Weights<detail::vec>::from(c);
  using Kernel = void (*)(const Weights<double>&, const Weights<detail::vec>&, double, detail::Row,
                          index_t, index_t);
  std::vector<std::pair<int, Kernel>> kernels = {{1, &detail::row_simd<S, false, true>},
                                                 {1, &detail::row_simd<S, false, false>},
                                                 {1, &detail::row_simd<S, true>}};
  if constexpr (S::dim >= 2) {
    kernels.emplace_back(2, &detail::rows_simd<S, 2, false, true>);
    kernels.emplace_back(2, &detail::rows_simd<S, 2, false, false>);
    kernels.emplace_back(2, &detail::rows_simd<S, 2, true>);
    kernels.emplace_back(2, &detail::rows_simd<S, 2, true, true, true>);
    kernels.emplace_back(4, &detail::rows_simd<S, 4, false, true>);
    kernels.emplace_back(4, &detail::rows_simd<S, 4, true, true, true>);
  }
  auto around = [&](const Field& o) { return std::vector<double>(o.raw() + lo, o.raw() + hi); };
  for (std::size_t kn = 0; kn < kernels.size(); ++kn)
    for (index_t i0 = -7; i0 <= g.n[0] + 7; ++i0)
      for (index_t i1 = i0; i1 <= g.n[0] + 7; ++i1) {
        for (Field* o : {&out, &want})
          std::fill_n(o->raw() + lo, hi - lo, -7.0);
        kernels[kn].second(w, wv, 0.25, row(out), i0, i1);
        detail::Row r = row(want);
        for (int k = 0; k < kernels[kn].first; ++k, r = detail::next_row<S>(r))
          detail::row_scalar<S>(w, 0.25, r, i0, i1);
        ASSERT_TRUE(test::same_bits(around(out), around(want)))
            << "kernel " << kn << ", cells [" << i0 << ", " << i1 << ")";
      }
}

TEST(Backends, RowSegmentsMatchTheScalarRowAtEveryStartAndEnd) {
  using F = StencilForm;
  using H = Heating;
  const Grid g1{1, {29, 1, 1}}, g2{2, {29, 3, 1}}, g3{3, {21, 3, 3}};
  check_row_segments<detail::Shape<1, F::expanded, H::field>>(g1);
  check_row_segments<detail::Shape<2, F::factored, H::none>>(g2);
  check_row_segments<detail::Shape<2, F::expanded, H::uniform>>(g2);
  check_row_segments<detail::Shape<2, F::conservative, H::field>>(g2);
  check_row_segments<detail::Shape<3, F::factored, H::none>>(g3);
  check_row_segments<detail::Shape<3, F::conservative, H::none>>(g3);
}

// Where the last-level cache does not feed a sweep at its in-cache rate, 3D strips are sized to
// half the L2, not to a share of the last level: more of them.
TEST(Backends, TiledStripsIn3DFitTheL2WhereTheLastLevelIsSlow) {
  const MeasuredLlcSpeedAfter measured;
  const auto strips = [](double speed) {
    use_llc_sweep_speed(speed);
    Solver s(test::problem("dim = 3\nn = 96\nsteps = 32\n"),
             make_backend("tiled", BackendOptions{1, 16}));
    s.step(16);
    const std::string plan = s.backend().plan();
    return std::stoi(plan.substr(plan.find(", ") + 2));  // "blocks of 16 steps, N strips of ..."
  };
  const double l2 = static_cast<double>(caches().l2), llc = static_cast<double>(caches().llc);
  const int slow = strips(0.4);
  // A strip of y-rows holds 2 x 18 planes' rows of 98 cells: half the L2 takes l2 / 56 KB.
  const double rows = 0.5 * l2 / (2.0 * 18 * 98 * 8);
  const int wanted = static_cast<int>(std::ceil(96 / std::max(2.0, std::floor(rows))));
  EXPECT_EQ(slow, 96 / (96 / wanted));
  if (llc / 8 > 0.5 * l2) {
    EXPECT_LT(strips(1.0), slow);
  }
}

// Where the last-level cache feeds a sweep at its in-cache rate, 2D strips take four rows a step
// (strip_unit in tiled.cpp), else two; the conservative forms two everywhere. Either way the
// reference's bits: bands and pipelined strips, wedges and band edges that cut a unit, a Neumann
// face refilled as it goes, sources, and depths and widths around the unit.
TEST(Backends, TiledStripsTakeFourRowsAStepWhereTheLastLevelIsFast) {
  const MeasuredLlcSpeedAfter measured;
  const std::string sources =
      "steps = 23\nboundary.y_high = \"neumann\"\n[sources]\nvolumetric = 0.2\n"
      "points = [{ at = [10, 20], energy = 1.5 }, { at = [30, 30], energy = 2.0 },"
      " { at = [40, 31], energy = 0.5 }]\n";
  const std::string variable =
      "form = \"expanded\"\n"
      "diffusivity = {type = \"box\", lo = [16.0, 16.0], hi = [48.0, 40.0], inside = 0.5}\n";
  for (const double speed : {1.0, 0.4})
    for (const std::string& extra : {std::string(), variable}) {
      use_llc_sweep_speed(speed);
      const Problem p = test::problem("n = [80, 61]\n" + extra + sources);
      const auto reference = run(p, {"serial", 1, 0});
      const bool four = speed >= kFastLlc && extra.empty();
      for (const Variant& v : std::vector<Variant>{{"tiled", 1, 0},
                                                   {"tiled", 2, 0},
                                                   {"tiled", 3, 0},
                                                   {"tiled", 1, 5, 16},
                                                   {"tiled", 2, 4, 16},
                                                   {"tiled", 2, 14},
                                                   {"tiled", 3, 8, 32},
                                                   {"tiled", 2, 15}}) {
        SCOPED_TRACE(std::to_string(speed) + " " + extra + std::to_string(v.threads) +
                     " threads, depth " + std::to_string(v.depth) + ", width " +
                     std::to_string(v.width));
        EXPECT_TRUE(test::same_bits(run(p, v), reference));
        Solver s(p, make_backend("tiled", BackendOptions{v.threads, v.depth, v.width}));
        s.step(p.steps);
        const std::string plan = s.backend().plan();
        if (v.width == 0 && plan.find("column strips") != std::string::npos) {
          EXPECT_EQ(plan.find("four a step") != std::string::npos, four) << plan;
        }
      }
    }
}

// Where the last level is fast, 2D strips step in place (one field, a saved row per step and the
// cells left of each strip kept; four-row units, two for variable alpha; at 2 and 3 threads in
// bands, whose edge rows are kept for the wedges): the same bits as the reference for every
// boundary kind, point sources on strip and band edges, heat fields, variable alpha, odd and
// even depths and 1 to 3 threads; strips narrower than twice the depth step two fields instead.
TEST(Backends, TiledStripsStepInPlaceWhereTheLastLevelIsFast) {
  const MeasuredLlcSpeedAfter measured;
  use_llc_sweep_speed(1.0);
  struct Grid2D {
    int rows, steps;
    std::vector<Variant> variants;
  };
  // 61 rows: bands at 2 and 3 threads. 30 rows: at 2 threads 8 deep the strips are pipelined
  // over the threads (15 rows a band is too few), at 3 threads 4 deep the bands are as short as
  // they may be (10 rows), and 21 steps end on a block of one step.
  const std::vector<Grid2D> grids = {
      {61,
       23,
       {{"tiled", 1, 4, 8},
        {"tiled", 1, 5, 24},
        {"tiled", 2, 3, 6},
        {"tiled", 2, 7, 16},
        {"tiled", 3, 4, 10},
        {"tiled", 2, 6, 11},
        {"tiled", 1, 23, 0}}},
      {30, 21, {{"tiled", 2, 8, 16}, {"tiled", 3, 4, 10}, {"tiled", 2, 4, 8}}}};
  for (const Grid2D& grid : grids) {
    const auto row = [&](int r) { return std::to_string(r * (grid.rows - 1) / 60); };
    const std::string points =
        "[sources]\nvolumetric = 0.2\npoints = [{ at = [0, 0], energy = 1.5 }, "
        "{ at = [23, " +
        row(30) + "], energy = 2.0 }, { at = [24, " + row(31) + "], energy = 0.5 }, { at = [47, " +
        row(60) + "], energy = 1.0 }, { at = [79, " + row(20) + "], energy = 0.25 }]\n";
    const std::vector<std::string> setups = {
        points,
        "boundary.x_low = \"neumann\"\nboundary.x_high = { type = \"robin\", h = 0.5, "
        "ambient = 1.0 }\nboundary.y = \"periodic\"\n" +
            points,
        "boundary.x = \"periodic\"\nboundary.y_low = { type = \"robin\", h = 2.0, ambient = 0.5 }\n"
        "boundary.y_high = \"neumann\"\n" +
            points,
        "sources.field = { type = \"box\", lo = [0.0, 10.0], hi = [30.0, 40.0], inside = 0.3 }\n",
        "form = \"expanded\"\n" + points,
        // Variable alpha (the conservative form, two-row units): a box inclusion, Neumann and
        // periodic faces, a heat field.
        "diffusivity = { type = \"box\", lo = [16.0, 8.0], hi = [48.0, 20.0], inside = 0.05 }\n"
        "boundary.x_low = \"neumann\"\nboundary.y = \"periodic\"\n" +
            points,
        "diffusivity = { type = \"box\", lo = [0.0, 5.0], hi = [40.0, 25.0], inside = 3.0 }\n"
        "sources.field = { type = \"box\", lo = [10.0, 10.0], hi = [60.0, 20.0], inside = 0.4 }\n"};
    for (const std::string& setup : setups) {
      const Problem p = test::problem("n = [80, " + std::to_string(grid.rows) +
                                      "]\nsteps = " + std::to_string(grid.steps) + "\n" + setup);
      SCOPED_TRACE(std::to_string(grid.rows) + " rows:\n" + setup);
      const auto reference = run(p, {"serial", 1, 0});
      for (const Variant& v : grid.variants) {
        SCOPED_TRACE(std::to_string(v.threads) + " threads, depth " + std::to_string(v.depth) +
                     ", width " + std::to_string(v.width));
        EXPECT_TRUE(test::same_bits(run(p, v), reference));
        Solver s(p, make_backend("tiled", BackendOptions{v.threads, v.depth, v.width}));
        s.step(p.steps);
        const std::string plan = s.backend().plan();
        if (v.width > 0) {
          EXPECT_EQ(plan.find("in place") != std::string::npos, v.width >= 2 * v.depth) << plan;
        }
        const bool bands = v.threads > 1 && grid.rows / v.threads >= 2 * v.depth + 2;
        EXPECT_EQ(plan.find("each thread a band of rows") != std::string::npos, bands) << plan;
      }
    }
  }
}

// Where the last-level cache is slow, 2D strips keep their rows in flight within half the L2,
// and blocks at most 32 steps deep keep the strips wide (kSlowLlcDepth2D in tiled.cpp).
TEST(Backends, TiledStripsIn2DFitHalfTheL2WhereTheLastLevelIsSlow) {
  const MeasuredLlcSpeedAfter measured;
  struct Cut {
    int depth = 0, strips = 0, width = 0;
    std::string plan;
  };
  const auto cut = [](double speed) {
    use_llc_sweep_speed(speed);
    Solver s(test::problem("dim = 2\nn = [4096, 64]\nsteps = 64\n"),
             make_backend("tiled", BackendOptions{1}));
    s.step(64);
    Cut c;
    c.plan = s.backend().plan();  // "blocks of D steps, N column strips of W (...)"
    c.depth = std::stoi(c.plan.substr(c.plan.find("of ") + 3));
    c.strips = std::stoi(c.plan.substr(c.plan.find(", ") + 2));
    c.width = std::stoi(c.plan.substr(c.plan.find("strips of ") + 10));
    return c;
  };
  const Cut slow = cut(0.4), fast = cut(1.0);
  EXPECT_EQ(slow.depth, std::min(32, fast.depth)) << slow.plan << " | " << fast.plan;
  EXPECT_NE(slow.plan.find("half the L2 cache"), std::string::npos) << slow.plan;
  EXPECT_EQ(fast.plan.find("half the L2 cache"), std::string::npos) << fast.plan;
  // Two arrays of 2 depth + 2 rows in flight, 8 bytes a cell: a strip holds at most what fits
  // in half the L2, and one strip fewer could not cover the 4096 columns (unless every thread's
  // two strips set the count).
  const double half_l2 = 0.5 * static_cast<double>(caches().l2);
  const double per_column = 2.0 * (2 * slow.depth + 2) * 8;
  const auto fits = static_cast<int>(half_l2 / per_column);
  EXPECT_LE(slow.width, fits) << slow.plan;
  if (slow.strips > 2) {
    EXPECT_LT((slow.strips - 1) * fits, 4096) << slow.plan;
  }
  EXPECT_GE(slow.strips, fast.strips);
}

}  // namespace
}  // namespace calor
