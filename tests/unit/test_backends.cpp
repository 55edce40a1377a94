// Every backend performs the reference's operations in the reference's order, so every backend
// must give the reference's final field bit for bit: for 1D, 2D and 3D, every boundary mix,
// sources, tiny and odd sizes, 1 to 3 threads, and step counts that are not multiples of the tile
// depth. No tolerance anywhere in this file.

#include <gtest/gtest.h>

#include <random>

#include "helpers.hpp"

namespace calor {
namespace {

struct Case {
  std::string name;
  std::string toml;
};

std::string sizes(int dim, std::initializer_list<int> n) {
  std::string s = "dim = " + std::to_string(dim) + "\nn = [";
  int i = 0;
  for (int v : n)
    s += (i++ ? ", " : "") + std::to_string(v);
  return s + "]\n";
}

const char* kMixes[] = {
    "boundary.all = { type = \"dirichlet\", value = 0.5 }\n",
    "boundary.all = { type = \"neumann\", gradient = 0.25 }\n",
    "boundary.all = \"periodic\"\n",
    // every kind at once, the outermost axis not periodic
    "[boundary]\nx = \"periodic\"\ny_low = { type = \"dirichlet\", value = -1.0 }\n"
    "y_high = { type = \"neumann\", gradient = 0.5 }\nz_low = \"neumann\"\n"
    "z_high = { type = \"dirichlet\", value = 2.0 }\n",
    // the outermost axis periodic: the tiled backend must notice and still be exact
    "[boundary]\nx_low = { type = \"dirichlet\", value = 1.0 }\nx_high = \"neumann\"\n"
    "y = \"periodic\"\nz = \"periodic\"\n",
};

std::vector<Case> cases() {
  std::vector<Case> v;
  const std::vector<std::pair<int, std::string>> grids = {
      {1, sizes(1, {1})},         {1, sizes(1, {2})},       {1, sizes(1, {7})},
      {1, sizes(1, {1001})},      {2, sizes(2, {1, 1})},    {2, sizes(2, {2, 3})},
      {2, sizes(2, {3, 7})},      {2, sizes(2, {33, 7})},   {2, sizes(2, {1001, 3})},
      {2, sizes(2, {7, 33})},     {2, sizes(2, {17, 29})},  {3, sizes(3, {1, 1, 1})},
      {3, sizes(3, {2, 3, 7})},   {3, sizes(3, {7, 3, 2})}, {3, sizes(3, {33, 7, 5})},
      {3, sizes(3, {9, 11, 13})},
  };
  int id = 0;
  for (const auto& [dim, grid] : grids)
    for (std::size_t m = 0; m < std::size(kMixes); ++m) {
      std::string mix = kMixes[m];
      if (dim < 3)  // drop the faces this dimension does not have
        for (const char* face : {"z_low", "z_high", "z ="}) {
          const auto p = mix.find(face);
          if (p != std::string::npos) mix.erase(p, mix.find('\n', p) - p + 1);
        }
      if (dim < 2)
        for (const char* face : {"y_low", "y_high", "y ="}) {
          const auto p = mix.find(face);
          if (p != std::string::npos) mix.erase(p, mix.find('\n', p) - p + 1);
        }
      // Alternate the stencil form, sources and the volumetric term across cases.
      const bool factored = id % 2 == 0;
      std::string extra = std::string("steps = ") + (id % 3 == 0 ? "7" : "13") + "\n" +
                          (factored ? "form = \"factored\"\n" : "h = [0.9, 1.1, 1.3]\n");
      if (!factored && dim < 3)
        extra.replace(extra.find("h = "), std::string::npos,
                      dim == 1 ? "h = 0.9\n" : "h = [0.9, 1.1]\n");
      std::string pre = grid + extra;
      std::string post = "[sources]\n";
      if (id % 3 != 1) post += "volumetric = 0.3\n";
      // Sources at a corner, an edge and twice in one cell (order must be kept).
      post += "points = [{ at = [0" + std::string(dim >= 2 ? ", 0" : "") + (dim >= 3 ? ", 0" : "") +
              "], energy = 1.5 }, { at = [0" + (dim >= 2 ? ", 0" : "") + (dim >= 3 ? ", 0" : "") +
              "], energy = 1e-17 }]\n";
      v.push_back({"case" + std::to_string(id++), pre + mix + post});
    }
  return v;
}

struct Variant {
  std::string backend;
  int threads;
  int depth;
};

const std::vector<Variant> kVariants = {
    {"simd", 1, 0},  {"threads", 1, 0}, {"threads", 2, 0}, {"threads", 3, 0},
    {"tiled", 1, 0}, {"tiled", 2, 0},   {"tiled", 3, 0},   {"tiled", 1, 2},
    {"tiled", 2, 3}, {"tiled", 3, 5},   {"tiled", 2, 1},
};

// Runs `p` from a random initial field (the same for every backend) and returns the interior.
std::vector<double> run(const Problem& p, const Variant& v) {
  Solver s(p, make_backend(v.backend, BackendOptions{v.threads, v.depth}));
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for_each_cell(p.grid, [&](index_t i, index_t j, index_t k) { s.field()(i, j, k) = u(rng); });
  // Two calls, so that a backend's state across calls is exercised too.
  s.step(p.steps / 2);
  s.step(p.steps - p.steps / 2);
  return test::interior(s.field());
}

TEST(Backends, AllMatchTheReferenceBitForBit) {
  int compared = 0;
  for (const Case& c : cases()) {
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
                   " depth=" + std::to_string(v.depth));
      EXPECT_TRUE(test::same_bits(run(p, v), reference));
      ++compared;
    }
  }
  EXPECT_EQ(compared, static_cast<int>(cases().size() * kVariants.size()));
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
}

TEST(Backends, AutoPicksAndExplains) {
  Grid small;
  small.n = {64, 64, 1};
  Grid big;
  big.n = {20000, 20000, 1};
  const Boundaries d = Boundaries::all(Boundary{});
  EXPECT_EQ(auto_backend_choice(big, &d, 2).name, "tiled");
  EXPECT_EQ(auto_backend_choice(small, &d, 2).name, "threads");
  EXPECT_EQ(auto_backend_choice(small, &d, 1).name, "simd");
  const Boundaries per = Boundaries::all(Boundary{BoundaryKind::periodic, 0});
  const auto c = auto_backend_choice(big, &per, 2);
  EXPECT_EQ(c.name, "threads");
  EXPECT_NE(c.reason.find("periodic"), std::string::npos) << c.reason;
}

}  // namespace
}  // namespace calor
