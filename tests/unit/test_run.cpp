// The run loop's checks before step 1: the files it will write.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "calor/config.hpp"
#include "calor/error.hpp"
#include "calor/run.hpp"

namespace calor {
namespace {

namespace fs = std::filesystem;

class RunPaths : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("calor_run_paths_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  [[nodiscard]] std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // A run of the case study writing `settings` (TOML lines); the error message if refused.
  std::string refusal(const std::string& settings, RunOptions o = {}) {
    try {
      calor::Run run(load_config("preset = \"stencil\"\nn = 16\nsteps = 2\n" + settings, "test"),
                     Comm(), o);
      run.run();
      return "";
    } catch (const Error& e) {
      return e.what();
    }
  }

  fs::path dir_;
};

TEST_F(RunPaths, TwoOutputsOnOneFileAreRefused) {
  // --output run.xmf: the snapshots and their XDMF file would be one file.
  const std::string xmf = refusal("output = { path = \"" + path("run.xmf") + "\" }\n");
  EXPECT_NE(xmf.find("output.path and output.path's XDMF file both name"), std::string::npos)
      << xmf;
  const std::string same = refusal("output = { path = \"" + path("x.h5") + "\" }\n" +
                                   "checkpoint = { path = \"" + path("sub/../x.h5") + "\" }\n");
  EXPECT_NE(same.find("output.path and checkpoint.path both name"), std::string::npos) << same;
  EXPECT_FALSE(fs::exists(path("run.xmf")));
  EXPECT_FALSE(fs::exists(path("x.h5")));
}

TEST_F(RunPaths, ADirectoryWhereAFileIsMeantIsRefused) {
  fs::create_directories(path("d"));
  const std::string m = refusal("checkpoint = { path = \"" + path("d") + "\" }\n");
  EXPECT_NE(m.find("is a directory; name a file in it"), std::string::npos) << m;
  EXPECT_FALSE(fs::exists(path("d.prev")));
  EXPECT_TRUE(fs::is_directory(path("d")));
}

TEST_F(RunPaths, AFileCalorDidNotWriteIsNeverReplacedWithoutOverwrite) {
  for (const std::string key : {"checkpoint", "output"}) {
    SCOPED_TRACE(key);
    std::ofstream(path("notes.h5")) << "my notes";
    const std::string m = refusal(key + " = { path = \"" + path("notes.h5") + "\" }\n");
    EXPECT_NE(m.find("exists and is not a file calor wrote for it"), std::string::npos) << m;
    EXPECT_NE(m.find("--overwrite"), std::string::npos) << m;
    std::ifstream in(path("notes.h5"));
    const std::string kept((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(kept, "my notes");
    EXPECT_FALSE(fs::exists(path("notes.h5.prev")));
    RunOptions o;
    o.overwrite = true;
    EXPECT_EQ(refusal(key + " = { path = \"" + path("notes.h5") + "\" }\n", o), "");
    fs::remove(path("notes.h5"));
    fs::remove(path("notes.h5.prev"));
    fs::remove(path("notes.xmf"));
  }
}

// --save-npy and PNG frames replace an .npy or PNG file (one a run may have written), never
// another file (the CLI fuzz test found `--save-npy README.h5` replacing a user's file).
TEST_F(RunPaths, NpyAndPngReplaceOnlyTheirOwnKindOfFile) {
  std::ofstream(path("notes.h5")) << "my notes";
  std::ofstream(path("frame_00000000.png")) << "my notes";
  RunOptions npy;
  npy.save_npy = path("notes.h5");
  const std::string m = refusal("", npy);
  EXPECT_NE(m.find("--save-npy '" + path("notes.h5") + "' exists and is not a file calor wrote"),
            std::string::npos)
      << m;
  const std::string png = refusal("output = { png = \"" + path("frame") + "\" }\n");
  EXPECT_NE(png.find("output.png '" + path("frame_00000000.png") + "' exists"), std::string::npos)
      << png;
  std::ifstream in(path("notes.h5"));
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), {}), "my notes");
  // An .npy file is replaced, as is a frame of an earlier run.
  npy.save_npy = path("u.npy");
  EXPECT_EQ(refusal("", npy), "");
  EXPECT_EQ(refusal("", npy), "");
  fs::remove(path("frame_00000000.png"));
  EXPECT_EQ(refusal("output = { png = \"" + path("frame") + "\" }\n"), "");
  EXPECT_EQ(refusal("output = { png = \"" + path("frame") + "\" }\n"), "");
}

// A snapshot write that was cut short leaves the snapshots in run.h5.tmp: the next run must not
// truncate it (review of issue 17's snapshot writes).
TEST_F(RunPaths, AnInterruptedSnapshotFileIsNeverTruncated) {
  std::ofstream(path("run.h5.tmp")) << "the earlier snapshots";
  const std::string m = refusal("output = { path = \"" + path("run.h5") + "\" }\n");
  EXPECT_NE(m.find("stopped while it wrote a snapshot"), std::string::npos) << m;
  std::ifstream in(path("run.h5.tmp"));
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), {}), "the earlier snapshots");
}

TEST_F(RunPaths, ParentsAreCreatedAndOwnFilesAreReplaced) {
  const std::string settings = "output = { path = \"" + path("out/a/run.h5") + "\" }\n" +
                               "checkpoint = { path = \"" + path("out/b/c.h5") + "\" }\n";
  calor::Run run(load_config("preset = \"stencil\"\nn = 16\nsteps = 2\n" + settings, "test"),
                 Comm());
  EXPECT_EQ(run.created_directories().size(), 2u);
  run.run();
  EXPECT_TRUE(fs::exists(path("out/a/run.h5")) && fs::exists(path("out/a/run.xmf")));
  // The same run again replaces its own snapshots and rotates its own checkpoint.
  EXPECT_EQ(refusal(settings), "");
  EXPECT_TRUE(fs::exists(path("out/b/c.h5.prev")));
}

}  // namespace
}  // namespace calor

namespace calor {
namespace {

// The threads a run reports are those its steps use: the threaded backends' and the spectral
// method's, 1 for the single-threaded ones, whatever was asked for.
TEST(RunThreads, AreTheThreadsTheStepsUse) {
  auto threads = [](const std::string& settings) {
    return calor::Run(
               load_config("preset = \"stencil\"\nn = 64\nsteps = 2\nthreads = 3\n" + settings,
                           "test"),
               Comm())
        .threads();
  };
  EXPECT_EQ(threads("backend = \"serial\"\n"), 1);
  EXPECT_EQ(threads("backend = \"simd\"\n"), 1);
  EXPECT_EQ(threads("backend = \"threads\"\n"), 3);
  EXPECT_EQ(threads("backend = \"tiled\"\n"), 3);
  EXPECT_EQ(threads("method = \"spectral\"\n"), 3);
}

}  // namespace
}  // namespace calor
