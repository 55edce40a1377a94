// The backends compiled in. Apart from the rest of backend.cpp so that the configuration parser
// (which validates `backend`) builds on its own, e.g. for the fuzzer.

#include <string>
#include <vector>

#include "calor/backend.hpp"

namespace calor {

std::vector<std::string> backend_names() {
  return {"auto", "serial", "simd", "threads", "tiled"};
}

}  // namespace calor
