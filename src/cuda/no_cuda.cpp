// A calor built without CUDA (CALOR_CUDA=OFF, or no nvcc at configure time): no devices, and
// device memory is refused with the way to get it.

#include <string>

#include "calor/device.hpp"
#include "calor/error.hpp"

namespace calor {

namespace {

constexpr const char* kNotBuilt =
    "this calor was built without CUDA (CALOR_CUDA=OFF, or no nvcc when it was configured): "
    "rebuild with the CUDA toolkit installed (CALOR_CUDA=ON to require it)";

}  // namespace

bool cuda_compiled() {
  return false;
}

std::vector<DeviceInfo> cuda_devices(std::string* why) {
  if (why != nullptr) *why = kNotBuilt;
  return {};
}

int current_device() {
  return 0;
}

namespace detail {

void device_copy(void* /*to*/, MemorySpace /*to_space*/, const void* /*from*/,
                 MemorySpace /*from_space*/, std::size_t /*bytes*/) {
  throw Error(std::string("cannot copy a device field: ") + kNotBuilt);
}

void* device_allocate(std::size_t /*bytes*/) {
  throw Error(std::string("this calor cannot allocate device memory: ") + kNotBuilt);
}

void device_free(void* /*p*/) {}

}  // namespace detail

}  // namespace calor
