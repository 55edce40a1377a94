// libFuzzer target: reading a snapshot or checkpoint dataset (`calor render`, Python's
// read_dataset) must turn any file into an array or a calor::Error, never a crash, a hang or
// undefined behaviour. Built by tests/fuzz/run.sh with clang.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "calor/error.hpp"
#include "calor/image.hpp"
#include "calor/output.hpp"
#include "fuzz_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = calor::fuzz::input_path(".h5");
  if (!calor::fuzz::write_input(path, data, size)) return 0;
  // The last snapshot (or /field), then a snapshot by its step, as `calor render` asks for them.
  for (const char* dataset : {"", "10"}) {
    try {
      std::vector<std::int64_t> shape;
      std::string name;
      const std::vector<double> v = calor::read_dataset(path, dataset, shape, &name);
      std::int64_t nx = 0, ny = 0;
      (void)calor::image_plane(v, shape, -1, nx, ny);
    } catch (const calor::Error&) {
      // A clear error is the right answer to a bad file.
    }
  }
  return 0;
}
