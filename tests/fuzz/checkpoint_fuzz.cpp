// libFuzzer target: restarting from a checkpoint must turn any file into a restored field or a
// calor::Error (never a crash, a hang or undefined behaviour): the header, the fingerprint check
// and the field with its checksum, as a restart reads them. Built by tests/fuzz/run.sh with clang.
// The seeds are checkpoints of the grid below (tests/fuzz/seeds/checkpoint).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "calor/comm.hpp"
#include "calor/config.hpp"
#include "calor/error.hpp"
#include "calor/output.hpp"
#include "calor/state.hpp"
#include "fuzz_file.hpp"

namespace {

struct Now {
  calor::Config config = calor::load_config("dim = 2\nn = [12, 9]\nsteps = 20\n", "fuzz", {});
  calor::Comm comm;
  std::vector<double> cells = std::vector<double>(12 * 9, 0.0);
  calor::State state;
  Now() {
    state.problem = &config.problem;
    state.box = calor::Box{{0, 0, 0}, {12, 9, 1}};
    state.cells = cells.data();
    state.stride_y = 12;
    state.stride_z = 12 * 9;
    state.comm = &comm;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = calor::fuzz::input_path(".h5");
  static const Now now;
  if (!calor::fuzz::write_input(path, data, size)) return 0;
  try {
    (void)calor::read_checkpoint(path, now.state, /*force=*/true);
  } catch (const calor::Error&) {
    // A clear error is the right answer to a bad file.
  }
  return 0;
}
