// libFuzzer target: the .npy reader (an initial field, `calor render x.npy`) must turn any file
// into an array or a calor::Error, never a crash, a hang, undefined behaviour or an allocation
// larger than the file could fill. Built by tests/fuzz/run.sh with clang.

#include <cstddef>
#include <cstdint>
#include <string>

#include "calor/error.hpp"
#include "calor/image.hpp"
#include "calor/npy.hpp"
#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = calor::fuzz::input_path(".npy");
  if (!calor::fuzz::write_input(path, data, size)) return 0;
  try {
    const calor::NpyArray a = calor::load_npy(path);
    std::int64_t nx = 0, ny = 0;
    (void)calor::image_plane(a.data, a.shape, -1, nx, ny);  // as `calor render` does
  } catch (const calor::Error&) {
    // A clear error is the right answer to a bad file.
  }
  return 0;
}
