// The names of the backends compiled in, from the registry's list alone, so that the
// configuration parser (which validates `backend`) builds without the backends, e.g. for the
// fuzzer.

#include <string>
#include <vector>

#include "backends/registry.hpp"

namespace calor {

std::vector<std::string> backend_names() {
#define CALOR_BACKEND_NAME(id) #id,
  return {"auto", CALOR_BACKENDS(CALOR_BACKEND_NAME)};
#undef CALOR_BACKEND_NAME
}

}  // namespace calor
