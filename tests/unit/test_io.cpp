// Output and failure safety: restart is bit-for-bit, checkpoints are refused when they do not
// belong to the run or are damaged, a full disk leaves the last good checkpoint intact, and a
// blow-up is reported with its step, value, cell and stability number.

#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

#include "calor/error.hpp"
#include "calor/health.hpp"
#include "calor/image.hpp"
#include "calor/npy.hpp"
#include "calor/output.hpp"
#include "helpers.hpp"
#include "output/sealed.hpp"

namespace calor {
namespace {

namespace fs = std::filesystem;

// A full disk, simulated: files may not grow beyond `bytes` (writes fail with EFBIG, SIGXFSZ
// ignored) while this lives.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) : previous_(std::signal(SIGXFSZ, SIG_IGN)) {
    getrlimit(RLIMIT_FSIZE, &old_);
    rlimit small = old_;
    small.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &small);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, previous_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit old_{};
  void (*previous_)(int);
};

class Io : public ::testing::Test {
 protected:
  fs::path dir =
      fs::temp_directory_path() /
      ("calor_io_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  void SetUp() override {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string path(const std::string& name) const { return (dir / name).string(); }

  static Problem problem(const std::string& extra = "") {
    return test::problem(
        "dim = 2\nn = [37, 29]\nsteps = 40\n"
        "boundary = { x = \"periodic\", y_low = { type = \"neumann\", gradient = 0.2 } }\n"
        "sources = { volumetric = 0.1, points = [{ at = [5, 7], energy = 1.0 }] }\n"
        "initial = { type = \"gaussian\", centre = [10.0, 12.0], width = 3.0 }\n" +
        extra);
  }
  // Expects `f` to throw a calor::Error whose message contains every part.
  template <class F>
  static void expect_error(F&& f, const std::vector<std::string>& parts) {
    try {
      f();
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      for (const auto& p : parts)
        EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
            << "lacks '" << p << "': " << e.what();
    }
  }
};

TEST_F(Io, RestartIsBitForBitForEveryBackend) {
  const Problem p = problem();
  const auto reference = test::interior(test::solve(p).field());
  for (const std::string backend : {"serial", "simd", "threads", "tiled"}) {
    SCOPED_TRACE(backend);
    Solver first(p, make_backend(backend));
    first.step(17);
    test::write_checkpoint(first, path("c.h5"));
    Solver second(p, make_backend(backend));
    test::restore_checkpoint(second, path("c.h5"), false);
    EXPECT_EQ(second.step_count(), 17);
    second.step(p.steps - 17);
    EXPECT_TRUE(test::same_bits(test::interior(second.field()), reference));
  }
}

TEST_F(Io, CheckpointKeepsThePreviousOneAndLeavesNoTemporary) {
  const Problem p = problem();
  Solver s(p, make_backend("simd"));
  s.step(3);
  test::write_checkpoint(s, path("c.h5"));
  s.step(4);
  test::write_checkpoint(s, path("c.h5"));
  EXPECT_EQ(read_checkpoint_info(path("c.h5")).step, 7);
  EXPECT_EQ(read_checkpoint_info(path("c.h5.prev")).step, 3);
  EXPECT_FALSE(fs::exists(path("c.h5.tmp")));
}

TEST_F(Io, ChangedPhysicsIsRefusedUnlessForced) {
  Solver s(problem(), make_backend("serial"));
  s.step(5);
  test::write_checkpoint(s, path("c.h5"));
  Solver other(problem("alpha = 0.5\n"), make_backend("serial"));
  expect_error([&] { test::restore_checkpoint(other, path("c.h5"), false); },
               {"different problem", "alpha: checkpoint 1, now 0.5", "--force"});
  EXPECT_NO_THROW(test::restore_checkpoint(other, path("c.h5"), true));
  EXPECT_EQ(other.step_count(), 5);
  Solver bigger(test::problem("dim = 2\nn = [38, 29]\nsteps = 40\n"), make_backend("serial"));
  expect_error([&] { test::restore_checkpoint(bigger, path("c.h5"), true); },
               {"n: checkpoint [37, 29], now [38, 29]", "cannot be restarted"});
}

TEST_F(Io, CorruptedTruncatedAndForeignCheckpointsAreRefused) {
  Solver s(problem(), make_backend("serial"));
  s.step(5);
  test::write_checkpoint(s, path("c.h5"));
  // One flipped bit in the field data: the checksum catches it.
  fs::copy_file(path("c.h5"), path("flip.h5"));
  {
    std::vector<double> shape_data;
    std::vector<std::int64_t> shape;
    const auto v = read_dataset(path("c.h5"), "/field", shape);
    std::ifstream in(path("flip.h5"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    const double target = v[100];
    std::string needle(reinterpret_cast<const char*>(&target), sizeof target);
    const auto at = bytes.find(needle);
    ASSERT_NE(at, std::string::npos);
    bytes[at] = static_cast<char>(bytes[at] ^ 1);
    std::ofstream(path("flip.h5"), std::ios::binary | std::ios::trunc) << bytes;
  }
  Solver t(problem(), make_backend("serial"));
  // The seal (the CRC-32 of the whole file) catches it before HDF5 reads the file.
  expect_error([&] { test::restore_checkpoint(t, path("flip.h5"), false); },
               {"flip.h5", "damaged", "CRC-32", ".prev"});
  // Sealed again over the flipped bit: the field's own checksum still catches it.
  seal_file(path("flip.h5"));
  expect_error([&] { test::restore_checkpoint(t, path("flip.h5"), false); },
               {"checksum", "corrupted", ".prev"});
  // Truncated to half its size.
  fs::copy_file(path("c.h5"), path("half.h5"));
  fs::resize_file(path("half.h5"), fs::file_size(path("c.h5")) / 2);
  expect_error([&] { test::restore_checkpoint(t, path("half.h5"), false); },
               {"half.h5", "truncated", ".prev"});
  // Not HDF5 at all, and HDF5 without a checkpoint in it.
  std::ofstream(path("junk.h5")) << "not a checkpoint";
  expect_error([&] { read_checkpoint_info(path("junk.h5")); },
               {"junk.h5", "not a calor checkpoint", "seal"});
  make_snapshot_output(path("snap.h5"), path("snap.xmf"))->write(test::state_of(s));
  expect_error([&] { read_checkpoint_info(path("snap.h5")); }, {"not a calor checkpoint"});
  // Another format version.
  fs::copy_file(path("c.h5"), path("v99.h5"));
  {
    const hid_t f = H5Fopen(path("v99.h5").c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t d = H5Dopen2(f, "/field", H5P_DEFAULT);
    const hid_t a = H5Aopen(d, "format_version", H5P_DEFAULT);
    const std::int64_t v = 99;
    H5Awrite(a, H5T_NATIVE_INT64, &v);
    H5Aclose(a);
    H5Dclose(d);
    H5Fclose(f);
  }
  seal_file(path("v99.h5"));
  expect_error([&] { read_checkpoint_info(path("v99.h5")); },
               {"format version 99", "reads version 2"});
  expect_error([&] { read_checkpoint_info(path("absent.h5")); }, {"absent.h5", "No such file"});
}

TEST_F(Io, FullDiskLeavesTheLastGoodCheckpointIntact) {
  const Problem p = test::problem(
      "dim = 2\nn = 200\nsteps = 10\ninitial = { type = \"constant\", value = 1.0 }\n");
  Solver s(p, make_backend("serial"));
  test::write_checkpoint(s, path("c.h5"));
  const auto good = fs::file_size(path("c.h5"));
  s.step(5);
  {
    // A file-size limit below one checkpoint (320 KB of field): writes fail with EFBIG.
    const FileSizeLimit disk_full(64 * 1024);
    expect_error([&] { test::write_checkpoint(s, path("c.h5")); }, {"c.h5"});
  }
  EXPECT_FALSE(fs::exists(path("c.h5.tmp"))) << "a half-written file was left behind";
  EXPECT_EQ(fs::file_size(path("c.h5")), good);
  Solver back(p, make_backend("serial"));
  test::restore_checkpoint(back, path("c.h5"), false);  // still loadable, and it is step 0's
  EXPECT_EQ(back.step_count(), 0);
  expect_error([&] { test::write_checkpoint(s, path("no/such/dir/c.h5")); },
               {"no/such/dir/c.h5", "directory exists"});
}

TEST_F(Io, SnapshotsHoldTheFieldAndAnXdmfIndex) {
  Solver s(problem(), make_backend("threads"));
  auto w = make_snapshot_output(path("s.h5"), path("s.xmf"));
  w->write(test::state_of(s));
  s.step(10);
  w->write(test::state_of(s));
  std::vector<std::int64_t> shape;
  EXPECT_EQ(read_dataset(path("s.h5"), "10", shape), test::interior(s.field()));
  EXPECT_EQ(shape, (std::vector<std::int64_t>{29, 37}));
  std::ifstream x(path("s.xmf"));
  const std::string xmf((std::istreambuf_iterator<char>(x)), {});
  EXPECT_NE(xmf.find("s.h5:/snapshots/0000000010"), std::string::npos);
  EXPECT_NE(xmf.find("Dimensions=\"1 29 37\""), std::string::npos);
  EXPECT_NE(xmf.find("CollectionType=\"Temporal\""), std::string::npos);
}

TEST_F(Io, PngHeatMap) {
  std::vector<double> v(30 * 20);
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<double>(i);
  write_heatmap_png(path("h.png"), v, 30, 20, "test");
  std::ifstream in(path("h.png"), std::ios::binary);
  char magic[8];
  in.read(magic, 8);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG");
  EXPECT_GT(fs::file_size(path("h.png")), 1000u);
  expect_error([&] { write_heatmap_png(path("x/y.png"), v, 30, 20); }, {"x/y.png"});
}

// A PNG's "Comment" text (the colour range, "lo .. hi") and its width in pixels.
struct PngFacts {
  std::string range;
  std::uint32_t width = 0;
};
PngFacts png_facts(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  PngFacts f;
  const auto at = bytes.find(std::string("Comment") + '\0');
  if (at != std::string::npos)
    for (std::size_t i = at + 8;
         i < bytes.size() && std::isprint(static_cast<unsigned char>(bytes[i])); ++i)
      f.range += bytes[i];
  for (int k = 16; k < 20 && bytes.size() > 20; ++k)  // IHDR's width, big-endian
    f.width = (f.width << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(k)]);
  return f;
}

// Issue 18: every frame of a series has the first frame's colour range (a movie of them does not
// flicker), or the configured one, on a linear or log scale; a 1D field is a line plot whose
// size does not grow with the field (a 1D PNG was an n x n/8 image: 35 s and 10 GB for a long bar).
TEST_F(Io, PngFramesShareOneColourRange) {
  Solver s(problem(), make_backend("serial"));
  s.step(5);
  auto frames = make_png_output(path("f"));
  frames->write(test::state_of(s));
  s.step(30);
  frames->write(test::state_of(s));
  const PngFacts first = png_facts(path("f_00000005.png")),
                 later = png_facts(path("f_00000035.png"));
  EXPECT_FALSE(first.range.empty());
  EXPECT_EQ(later.range, first.range);
  auto fixed = make_png_output(path("g"), ColourRange{0.5, 4, true});
  fixed->write(test::state_of(s));
  EXPECT_EQ(png_facts(path("g_00000035.png")).range, "0.5 .. 4 (log)");

  std::vector<double> bar(3'000'000);
  for (std::size_t i = 0; i < bar.size(); ++i)
    bar[i] = std::sin(static_cast<double>(i) * 1e-5);
  std::int64_t nx = 0, ny = 0;
  const auto plane = image_plane(bar, {static_cast<std::int64_t>(bar.size())}, -1, nx, ny);
  EXPECT_EQ(ny, 1);
  write_heatmap_png(path("bar.png"), plane, nx, ny, "step 1");
  EXPECT_LT(png_facts(path("bar.png")).width, 1200u);
  EXPECT_EQ(png_facts(path("bar.png")).range, "-1 .. 1");
  // A long, thin 2D field: the margins grew with the long side and overflowed the canvas.
  std::vector<double> strip(2 * 3'000'000, 1.0);
  write_heatmap_png(path("strip.png"), strip, 3'000'000, 2, "step 1");
  EXPECT_LT(png_facts(path("strip.png")).width, 200'000u);
}

// The check finds NaN, both infinities and values past kBlowUp anywhere in a strided block, names
// the first in storage order by its global cell, and reads nothing past a row's end (the padding
// here holds a NaN).
TEST(Health, FindsEveryKindOfBadValueAndNamesItsGlobalCell) {
  const Problem p = test::problem("dim = 3\nn = 40\n");
  const index_t nx = 19, ny = 3, nz = 2, sy = 24;  // rows padded to 24
  std::vector<double> cells(static_cast<std::size_t>(sy * ny * nz), 1.0);
  for (index_t r = 0; r < ny * nz; ++r)
    for (index_t i = nx; i < sy; ++i)
      cells[static_cast<std::size_t>(r * sy + i)] = std::nan("");
  State st;
  st.problem = &p;
  st.step = 7;
  st.box = Box{{5, 10, 20}, {5 + nx, 10 + ny, 20 + nz}};
  st.cells = cells.data();
  st.stride_y = sy;
  st.stride_z = sy * ny;
  const auto at = [&](index_t i, index_t j, index_t k) -> double& {
    return cells[static_cast<std::size_t>(i + sy * j + sy * ny * k)];
  };
  at(0, 0, 0) = -kBlowUp;  // the limit itself is sane
  at(nx - 1, ny - 1, nz - 1) = kBlowUp;
  EXPECT_EQ(check_field(st), "");
  const double inf = std::numeric_limits<double>::infinity();
  for (const double bad : {std::nan(""), inf, -inf, 2 * kBlowUp, -2 * kBlowUp}) {
    at(0, 2, 1) = bad;
    at(18, 0, 1) = bad;  // earlier in storage order: the one named
    const std::string m = check_field(st);
    EXPECT_NE(m.find("blew up by step 7"), std::string::npos) << bad << ": " << m;
    EXPECT_NE(m.find("at cell (23, 10, 21)"), std::string::npos) << bad << ": " << m;
    at(18, 0, 1) = 1.0;
    EXPECT_NE(check_field(st).find("at cell (5, 12, 21)"), std::string::npos) << bad;
    at(0, 2, 1) = 1.0;
  }
  EXPECT_EQ(check_field(st), "");
}

// Threads share the scan by rows and name the same cell as one thread: the first bad value in
// storage order, though a later share finds its own first.
TEST(Health, ThreadsNameTheSameFirstBadCell) {
  const Problem p = test::problem("dim = 2\nn = 300\n");
  const index_t nx = 40, ny = 300, sy = 40;
  std::vector<double> cells(static_cast<std::size_t>(sy * ny), 1.0);
  State st;
  st.problem = &p;
  st.box = Box{{0, 0, 0}, {nx, ny, 1}};
  st.cells = cells.data();
  st.stride_y = sy;
  st.stride_z = sy * ny;
  const auto at = [&](index_t i, index_t j) -> double& {
    return cells[static_cast<std::size_t>(i + sy * j)];
  };
  for (const int threads : {1, 2, 3, 4})
    EXPECT_EQ(check_field(st, threads), "") << threads;
  at(7, 250) = std::nan("");
  at(30, 150) = std::nan("");  // in a later share than row 40 at 2 to 4 threads
  at(3, 40) = std::nan("");
  for (const auto& [i, j] : {std::pair<index_t, index_t>{3, 40}, {30, 150}, {7, 250}}) {
    for (const int threads : {1, 2, 3, 4}) {
      const std::string m = check_field(st, threads);
      const std::string cell = "at cell (" + std::to_string(i) + ", " + std::to_string(j) + ")";
      EXPECT_NE(m.find(cell), std::string::npos) << threads << " threads: " << m;
    }
    at(i, j) = 1.0;
  }
  EXPECT_EQ(check_field(st, 3), "");
}

TEST(Health, BlowUpNamesStepValueCellAndStability) {
  const Problem p = test::problem(
      "dim = 2\nn = 30\ndt = 0.4\nallow_unstable = true\nsteps = 1000\n"
      "initial = { type = \"gaussian\", centre = [15.0, 15.0], width = 2.0 }\n");
  Solver s(p, make_backend("simd"));
  EXPECT_EQ(check_field(test::state_of(s)), "");
  s.step(p.steps);
  const std::string m = check_field(test::state_of(s));
  EXPECT_NE(m.find("blew up by step 1000"), std::string::npos) << m;
  EXPECT_NE(m.find("r = alpha*dt*sum(1/h^2) = 0.8 exceeds the FTCS limit 0.5"), std::string::npos)
      << m;
  EXPECT_NE(m.find("at cell ("), std::string::npos) << m;
}

// The device's health check clears a field from its statistics alone: only when every value is
// finite and within the limit (NaN and infinities poison the sum), else the host looks.
TEST(Health, StatisticsClearOnlyAHealthyField) {
  const auto of = [](std::vector<double> v) {
    StatsAccumulator a;
    for (double x : v)
      a.add(x);
    return a.surely_within(kBlowUp);
  };
  EXPECT_TRUE(StatsAccumulator{}.surely_within(kBlowUp));
  EXPECT_TRUE(of({1.0, -3.0, 1e149, -1e149}));
  EXPECT_FALSE(of({1.0, std::nan(""), 2.0}));
  EXPECT_FALSE(of({std::nan(""), 1.0}));  // a NaN first: min and max stay NaN, the sum says so
  EXPECT_FALSE(of({1.0, INFINITY}));
  EXPECT_FALSE(of({-INFINITY, 1.0}));
  EXPECT_FALSE(of({INFINITY, -INFINITY}));
  EXPECT_FALSE(of({0.0, 2e150}));
  EXPECT_FALSE(of({-2e150, 0.0}));
}

// Every reduction of a field has one order (each row by itself, rows merged in order), so a
// device reducing rows in parallel, a Field and a State's view give the same bits.
TEST(Stats, OneOrderForFieldsViewsAndRows) {
  const Problem p = test::problem("dim = 3\nn = [7, 5, 4]\nsteps = 3\n");
  Solver s(p, make_backend("serial"));
  std::vector<double> v(static_cast<std::size_t>(p.grid.cells()));
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = std::sin(0.37 * static_cast<double>(i)) * 1e3 + 1e-3 * static_cast<double>(i);
  s.load_interior(v.data());
  const Stats a = compute_stats(s.field()), b = test::state_of(s).stats();
  StatsAccumulator rows;
  for (std::size_t r = 0; r < v.size() / 7; ++r)
    rows.merge(accumulate_row(v.data() + 7 * r, 7));
  const Stats c = rows.finish();
  for (const Stats& x : {b, c}) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a.heat), std::bit_cast<std::uint64_t>(x.heat));
    EXPECT_EQ(std::bit_cast<std::uint64_t>(a.l2), std::bit_cast<std::uint64_t>(x.l2));
    EXPECT_EQ(a.min, x.min);
    EXPECT_EQ(a.max, x.max);
  }
}

// A row of any length, its cells spread over the ways and the tail: integers, whose sum and sum
// of squares a compensated sum gets exactly, also past two cells of 2^60 that cancel (a plain
// sum loses the rest); exact extremes; and NaN as add() treats it, ignored past the first cell
// and kept from it.
TEST(Stats, RowsKeepTheExactSumAndExtremesAtEveryLength) {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> cell(-1000000, 1000000);
  for (index_t n = 0; n <= 70; ++n) {
    std::vector<double> row(static_cast<std::size_t>(n));
    long long sum = 0, squares = 0;
    for (double& v : row) {
      v = cell(rng);
      sum += static_cast<long long>(v);
      squares += static_cast<long long>(v) * static_cast<long long>(v);
    }
    const Stats st = accumulate_row(row.data(), n).finish();
    EXPECT_EQ(st.heat, static_cast<double>(sum)) << n;
    EXPECT_EQ(st.l2, std::sqrt(static_cast<double>(squares))) << n;
    if (n > 0) {
      EXPECT_EQ(st.min, *std::min_element(row.begin(), row.end())) << n;
      EXPECT_EQ(st.max, *std::max_element(row.begin(), row.end())) << n;
    }
    if (n >= 3) {
      const double first = row[1], last = row.back();
      row[1] = 0x1p60;
      row.back() = -0x1p60;
      EXPECT_EQ(accumulate_row(row.data(), n).finish().heat,
                static_cast<double>(sum - static_cast<long long>(first + last)))
          << n;
    }
  }
  std::vector<double> row(20, 1.0);
  row[3] = std::nan("");  // its way's other cells still count
  row[11] = -5.0;
  row[19] = 7.0;
  Stats st = accumulate_row(row.data(), 20).finish();
  EXPECT_EQ(st.min, -5.0);
  EXPECT_EQ(st.max, 7.0);
  EXPECT_TRUE(std::isnan(st.heat));
  row[0] = std::nan("");  // the first cell: as add(), the extremes stay NaN
  st = accumulate_row(row.data(), 20).finish();
  EXPECT_TRUE(std::isnan(st.min) && std::isnan(st.max));
}

// Rows reduced on several threads and merged in order give the serial bits: over the chunk
// boundaries of the threaded reduction (4096 rows), with rows of odd length in a padded field,
// and through a host backend's statistics() (which uses its threads).
TEST(Stats, ThreadedReductionKeepsTheBits) {
  const Problem p = test::problem("dim = 3\nn = [13, 1100, 9]\nsteps = 2\n");
  Solver s(p, make_backend("threads", BackendOptions{3}));
  const std::vector<double> v = test::random_field(p.grid, 7, -1e3, 1e3);
  s.load_interior(v.data());
  const StatsAccumulator one = accumulate(s.field());
  const auto same = [&](const StatsAccumulator& x, const std::string& what) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(one.sum), std::bit_cast<std::uint64_t>(x.sum)) << what;
    EXPECT_EQ(std::bit_cast<std::uint64_t>(one.sum_c), std::bit_cast<std::uint64_t>(x.sum_c))
        << what;
    EXPECT_EQ(std::bit_cast<std::uint64_t>(one.sq), std::bit_cast<std::uint64_t>(x.sq)) << what;
    EXPECT_EQ(std::bit_cast<std::uint64_t>(one.sq_c), std::bit_cast<std::uint64_t>(x.sq_c)) << what;
    EXPECT_EQ(one.min, x.min) << what;
    EXPECT_EQ(one.max, x.max) << what;
  };
  for (const int threads : {2, 3, 5, 64})
    same(accumulate(s.field(), threads), std::to_string(threads) + " threads");
  same(s.local_statistics(), "the backend's");
}

// ---- hostile input: the readers refuse what they cannot hold, naming file and problem ----

// Writes dataset `name` of `type` and shape `dims` (chunked when `chunk` is given: no storage is
// allocated, so a huge extent costs nothing on disk) into the HDF5 file `path`, creating it.
void write_h5(const std::string& path, const std::string& name, hid_t type,
              const std::vector<hsize_t>& dims, const void* data = nullptr,
              const std::vector<hsize_t>& chunk = {}) {
  const hid_t f = fs::exists(path)
                      ? H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT)
                      : H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const hid_t space = dims.empty()
                          ? H5Screate(H5S_SCALAR)
                          : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (!chunk.empty()) H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
  const hid_t d = H5Dcreate2(f, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  ASSERT_GE(d, 0) << name;
  if (data != nullptr) {
    ASSERT_GE(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), 0);
  }
  H5Dclose(d);
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Fclose(f);
}

TEST_F(Io, ReadDatasetRefusesRanksOutsideOneToThree) {
  const std::string f = path("r.h5");
  const std::vector<double> v(2 * 2 * 2 * 2, 1.0);
  write_h5(f, "/a", H5T_NATIVE_DOUBLE, {2, 2, 2, 2}, v.data());
  write_h5(f, "/s", H5T_NATIVE_DOUBLE, {}, v.data());
  {
    const hid_t h = H5Fopen(f.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t null = H5Screate(H5S_NULL);
    H5Dclose(H5Dcreate2(h, "/n", H5T_NATIVE_DOUBLE, null, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Gclose(H5Gcreate2(h, "/g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Sclose(null);
    H5Fclose(h);
  }
  std::vector<std::int64_t> shape;
  expect_error([&] { read_dataset(f, "/a", shape); },
               {"'" + f + "'", "dataset /a has rank 4", "1-, 2- and 3-dimensional"});
  expect_error([&] { read_dataset(f, "/s", shape); },
               {"'" + f + "'", "dataset /s", "rank 0", "1-, 2- and 3-dimensional"});
  expect_error([&] { read_dataset(f, "/n", shape); }, {"'" + f + "'", "dataset /n", "no values"});
  expect_error([&] { read_dataset(f, "/g", shape); }, {"'" + f + "'", "/g is not a dataset"});
}

TEST_F(Io, ReadDatasetRefusesEmptyAndHugeExtents) {
  const std::string f = path("e.h5");
  write_h5(f, "/z", H5T_NATIVE_DOUBLE, {3, 0});
  // 2^50 values (8 PiB as float64), and 2^120 values, whose count overflows 64 bits: both files
  // are a few KB.
  write_h5(f, "/big", H5T_IEEE_F64LE, {1u << 20, 1u << 20, 1u << 10}, nullptr, {1, 1, 1024});
  const hsize_t t40 = hsize_t{1} << 40;
  write_h5(f, "/overflow", H5T_IEEE_F64LE, {t40, t40, t40}, nullptr, {1, 1, 1});
  std::vector<std::int64_t> shape;
  expect_error([&] { read_dataset(f, "/z", shape); },
               {"'" + f + "'", "dataset /z", "shape (3, 0)", "extent of 0"});
  expect_error([&] { read_dataset(f, "/big", shape); },
               {"'" + f + "'", "dataset /big", "(1048576, 1048576, 1024)", "9007199254740992 bytes",
                "memory"});
  expect_error([&] { read_dataset(f, "/overflow", shape); },
               {"'" + f + "'", "dataset /overflow", "(1099511627776, 1099511627776, 1099511627776)",
                "overflows"});
}

TEST_F(Io, ReadDatasetRefusesNonNumericTypesAndConvertsNumbers) {
  const std::string f = path("t.h5");
  {
    const hid_t str = H5Tcopy(H5T_C_S1);
    H5Tset_size(str, 4);
    const char text[2][4] = {{'a', 'b', 'c', 0}, {'d', 'e', 'f', 0}};
    write_h5(f, "/str", str, {2}, text);
    H5Tclose(str);
    const hid_t pair = H5Tcreate(H5T_COMPOUND, 2 * sizeof(double));
    H5Tinsert(pair, "re", 0, H5T_NATIVE_DOUBLE);
    H5Tinsert(pair, "im", sizeof(double), H5T_NATIVE_DOUBLE);
    const double c[4] = {1, 2, 3, 4};
    write_h5(f, "/cpx", pair, {2}, c);
    H5Tclose(pair);
  }
  const std::int32_t ints[6] = {1, -2, 3, 4, 5, 600000};
  write_h5(f, "/i", H5T_NATIVE_INT32, {2, 3}, ints);
  const float floats[3] = {0.5f, 1.5f, -2.25f};
  write_h5(f, "/f", H5T_NATIVE_FLOAT, {3}, floats);
  std::vector<std::int64_t> shape;
  expect_error([&] { read_dataset(f, "/str", shape); },
               {"'" + f + "'", "dataset /str", "string", "floating-point or integer"});
  expect_error([&] { read_dataset(f, "/cpx", shape); },
               {"'" + f + "'", "dataset /cpx", "compound", "floating-point or integer"});
  EXPECT_EQ(read_dataset(f, "/i", shape), (std::vector<double>{1, -2, 3, 4, 5, 600000}));
  EXPECT_EQ(shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(read_dataset(f, "/f", shape), (std::vector<double>{0.5, 1.5, -2.25}));
  EXPECT_EQ(shape, (std::vector<std::int64_t>{3}));
}

TEST_F(Io, ImagePlaneNeverIndexesOutOfRange) {
  std::int64_t nx = 0, ny = 0;
  const std::vector<double> six(6, 1.0);
  for (const auto& bad : std::vector<std::vector<std::int64_t>>{
           {}, {1, 1, 2, 3}, {2, 0}, {0}, {-2, -3}, {3, 3}, {2, 2, 2}})
    expect_error([&] { image_plane(six, bad, -1, nx, ny); }, {"shape"});
  // A slice past the end is the last; a 3D field's plane is its slice.
  std::vector<double> cube(24);
  for (std::size_t i = 0; i < cube.size(); ++i)
    cube[i] = static_cast<double>(i);
  EXPECT_EQ(image_plane(cube, {2, 3, 4}, 99, nx, ny),
            std::vector<double>(cube.begin() + 12, cube.end()));
  EXPECT_EQ(nx, 4);
  EXPECT_EQ(ny, 3);
  // A long 1D field is drawn as a strip of bounded height, not nx/8 rows of nx.
  const std::vector<double> line(std::size_t{1} << 22, 2.0);
  const auto strip = image_plane(line, {static_cast<std::int64_t>(line.size())}, -1, nx, ny);
  EXPECT_EQ(nx, static_cast<std::int64_t>(line.size()));
  EXPECT_GE(ny, 1);
  EXPECT_EQ(strip.size(), static_cast<std::size_t>(nx * ny));
  EXPECT_LE(strip.size(), std::size_t{1} << 24);
}

// Writes a version 1.0 .npy file with header dict `dict` and `payload` bytes of data.
void write_raw_npy(const std::string& path, const std::string& dict, std::size_t payload) {
  std::string header = dict;
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write("\x93NUMPY\x01\x00", 8);
  const char len[2] = {static_cast<char>(header.size() & 0xff),
                       static_cast<char>(header.size() >> 8)};
  out.write(len, 2);
  out << header << std::string(payload, '\0');
}

TEST_F(Io, NpyHeaderIsCheckedAgainstTheFileSizeBeforeAllocating) {
  auto npy = [](const std::string& shape) {
    return "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }";
  };
  // 10 KB of data under a header promising 3.2 GB.
  write_raw_npy(path("big.npy"), npy("(100000, 4000)"), 10240);
  const auto size = std::to_string(fs::file_size(path("big.npy")));
  expect_error([&] { load_npy(path("big.npy")); },
               {"'" + path("big.npy") + "'", "(100000, 4000)", "3200000000 bytes", size});
  // 8 PiB promised: refused the same way (not a failed allocation).
  write_raw_npy(path("huge.npy"), npy("(1048576, 1048576, 1024)"), 64);
  expect_error([&] { load_npy(path("huge.npy")); },
               {"huge.npy", "(1048576, 1048576, 1024)", "9007199254740992 bytes"});
  // Shapes whose size overflows, out-of-range numbers, negative or malformed extents.
  write_raw_npy(path("of.npy"), npy("(4611686018427387904, 4611686018427387904)"), 64);
  expect_error([&] { load_npy(path("of.npy")); }, {"of.npy", "overflows"});
  write_raw_npy(path("range.npy"), npy("(99999999999999999999999,)"), 64);
  expect_error([&] { load_npy(path("range.npy")); }, {"range.npy", "99999999999999999999999"});
  for (const std::string bad : {"(-3, 2)", "(3x, 2)", "(3, , 2)", "(2.5,)"}) {
    write_raw_npy(path("bad.npy"), npy(bad), 64);
    expect_error([&] { load_npy(path("bad.npy")); }, {"bad.npy", "shape " + bad});
  }
  // A file exactly as long as its header promises still loads, and so does a 0-d array.
  write_raw_npy(path("ok.npy"), npy("(2, 3)"), 48);
  EXPECT_EQ(load_npy(path("ok.npy")).data, std::vector<double>(6, 0.0));
  write_raw_npy(path("scalar.npy"), npy("()"), 8);
  EXPECT_EQ(load_npy(path("scalar.npy")).data.size(), 1u);
}

// The files tests/CMakeLists.txt has `calor render` refuse (cli.exit_render_*, which need this
// test as the CTest fixture cli.render_hostile_files): written to CALOR_HOSTILE_DIR, or, run
// without it, to a temporary directory, checked to be refused, and removed.
TEST(IoFiles, HostileHdf5ForCli) {
  const char* env = std::getenv("CALOR_HOSTILE_DIR");
  const fs::path d =
      env != nullptr ? fs::path(env)
                     : fs::temp_directory_path() / ("calor_hostile_" + std::to_string(::getpid()));
  fs::create_directories(d);
  for (const char* f : {"rank4.h5", "scalar.h5", "empty.h5", "strings.h5"})
    fs::remove(d / f);
  const std::vector<double> v(16, 1.0);
  write_h5((d / "rank4.h5").string(), "/field", H5T_NATIVE_DOUBLE, {2, 2, 2, 2}, v.data());
  write_h5((d / "scalar.h5").string(), "/field", H5T_NATIVE_DOUBLE, {}, v.data());
  write_h5((d / "empty.h5").string(), "/field", H5T_NATIVE_DOUBLE, {3, 0});
  const hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, 4);
  write_h5((d / "strings.h5").string(), "/field", str, {2}, "abc\0def");
  H5Tclose(str);
  for (const char* f : {"rank4.h5", "scalar.h5", "empty.h5", "strings.h5"}) {
    std::vector<std::int64_t> shape;
    EXPECT_THROW(read_dataset((d / f).string(), "", shape), Error) << f;
  }
  if (env == nullptr) fs::remove_all(d);
}

// A full disk (here a file-size limit) leaves no truncated .npy or PNG under the name asked for,
// and no temporary file: every file calor writes goes through a temporary name and a rename.
TEST_F(Io, NpyAndPngAreWrittenAllOrNothing) {
  std::vector<double> v(200 * 200, 1.0);
  std::ofstream(path("u.npy")) << "the previous result";
  std::ofstream(path("f.png")) << "the previous frame";
  {
    const FileSizeLimit disk_full(16 * 1024);
    expect_error([&] { save_npy(path("u.npy"), {200, 200}, v.data()); }, {"u.npy"});
    for (std::size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<double>((i * 7919) % 1000);  // noise: the PNG does not compress away
    expect_error([&] { write_heatmap_png(path("f.png"), v, 200, 200); }, {"f.png"});
  }
  auto text = [&](const std::string& name) {
    std::ifstream in(path(name));
    return std::string((std::istreambuf_iterator<char>(in)), {});
  };
  EXPECT_EQ(text("u.npy"), "the previous result");
  EXPECT_EQ(text("f.png"), "the previous frame");
  EXPECT_FALSE(fs::exists(path("u.npy.tmp")));
  EXPECT_FALSE(fs::exists(path("f.png.tmp")));
}

// Issue 17, item 6: a snapshot that cannot be written (a full disk, a quota, here a file-size
// limit) fails before HDF5 writes anything (HDF5 1.10 cannot undo a failed append, and crashed at
// exit after one): the first snapshot leaves no file at all, a later one leaves the file with
// the earlier snapshots intact, and neither leaves a temporary file.
TEST_F(Io, SnapshotFileIsNeverHalfWritten) {
  Solver s(problem(), make_backend("serial"));
  {
    const FileSizeLimit disk_full(4 * 1024);
    auto first = make_snapshot_output(path("a.h5"));
    expect_error([&] { first->write(test::state_of(s)); }, {"a.h5"});
  }
  EXPECT_FALSE(fs::exists(path("a.h5")));
  EXPECT_FALSE(fs::exists(path("a.h5.tmp")));
  auto w = make_snapshot_output(path("s.h5"));
  w->write(test::state_of(s));
  const std::vector<double> first = test::interior(s.field());
  s.step(10);
  {
    const FileSizeLimit disk_full(fs::file_size(path("s.h5")) + 1024);
    expect_error([&] { w->write(test::state_of(s)); },
                 {"s.h5", "snapshot of step 10", "earlier snapshots in it are intact"});
  }
  EXPECT_FALSE(fs::exists(path("s.h5.tmp")));
  std::vector<std::int64_t> shape;
  EXPECT_EQ(read_dataset(path("s.h5"), "", shape), first);  // the last one is still step 0's
  w->write(test::state_of(s));                              // and the disk has room again
  EXPECT_EQ(read_dataset(path("s.h5"), "10", shape), test::interior(s.field()));
}

// The XDMF file grows by its new entry at each snapshot instead of being rewritten whole (a long
// run's rewrites cost the square of its snapshot count): what is already in it stays untouched.
TEST_F(Io, XdmfGrowsByAppendingEachSnapshot) {
  Solver s(problem(), make_backend("serial"));
  auto w = make_snapshot_output(path("s.h5"), path("s.xmf"));
  w->write(test::state_of(s));
  std::string first;
  {
    std::ifstream in(path("s.xmf"));
    first.assign((std::istreambuf_iterator<char>(in)), {});
  }
  // Mark the file's head: a rewrite would lose the mark, an append keeps it.
  std::string marked = first;
  marked.replace(marked.find("Xdmf.dtd"), 8, "Xdmf.DTD");
  std::ofstream(path("s.xmf"), std::ios::trunc) << marked;
  for (int k = 0; k < 3; ++k) {
    s.step(5);
    w->write(test::state_of(s));
  }
  std::ifstream in(path("s.xmf"));
  const std::string now((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(now.find("Xdmf.DTD"), std::string::npos) << "the XDMF file was rewritten";
  EXPECT_NE(now.find("s.h5:/snapshots/0000000015"), std::string::npos);
  EXPECT_EQ(now.rfind("</Xdmf>\n"), now.size() - 8) << "one closing tag, at the end";
  EXPECT_EQ(now.find("</Xdmf>"), now.rfind("</Xdmf>"));
}

}  // namespace
}  // namespace calor
