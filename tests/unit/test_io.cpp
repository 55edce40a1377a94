// Output and failure safety: restart is bit-for-bit, checkpoints are refused when they do not
// belong to the run or are damaged, a full disk leaves the last good checkpoint intact, and a
// blow-up is reported with its step, value, cell and stability number.

#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include "calor/error.hpp"
#include "calor/health.hpp"
#include "calor/image.hpp"
#include "calor/output.hpp"
#include "helpers.hpp"

namespace calor {
namespace {

namespace fs = std::filesystem;

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
  expect_error([&] { test::restore_checkpoint(t, path("flip.h5"), false); },
               {"checksum", "corrupted", ".prev"});
  // Truncated to half its size.
  fs::copy_file(path("c.h5"), path("half.h5"));
  fs::resize_file(path("half.h5"), fs::file_size(path("c.h5")) / 2);
  expect_error([&] { test::restore_checkpoint(t, path("half.h5"), false); }, {"half.h5"});
  // Not HDF5 at all, and HDF5 without a checkpoint in it.
  std::ofstream(path("junk.h5")) << "not a checkpoint";
  expect_error([&] { read_checkpoint_info(path("junk.h5")); }, {"junk.h5", "not a readable HDF5"});
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
  expect_error([&] { read_checkpoint_info(path("v99.h5")); },
               {"format version 99", "reads version 1"});
  expect_error([&] { read_checkpoint_info(path("absent.h5")); }, {"absent.h5", "No such file"});
}

TEST_F(Io, FullDiskLeavesTheLastGoodCheckpointIntact) {
  const Problem p = test::problem(
      "dim = 2\nn = 200\nsteps = 10\ninitial = { type = \"constant\", value = 1.0 }\n");
  Solver s(p, make_backend("serial"));
  test::write_checkpoint(s, path("c.h5"));
  const auto good = fs::file_size(path("c.h5"));
  s.step(5);
  // A file-size limit below one checkpoint (320 KB of field): writes fail with EFBIG.
  rlimit old{};
  getrlimit(RLIMIT_FSIZE, &old);
  auto* previous = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 64 * 1024;
  setrlimit(RLIMIT_FSIZE, &small);
  expect_error([&] { test::write_checkpoint(s, path("c.h5")); }, {"c.h5"});
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, previous);
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

}  // namespace
}  // namespace calor
