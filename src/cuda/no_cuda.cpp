// A calor built without CUDA (CALOR_CUDA=OFF, or no nvcc at configure time): no devices, and
// device memory is refused with the way to get it.

#include <cstring>
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

int device_for_local_rank(int local_rank, int devices) {
  return devices > 0 ? local_rank % devices : 0;
}

int current_device() {
  return 0;
}

void copy_field(const Field& from, Field& to) {
  if (from.space() != MemorySpace::host || to.space() != MemorySpace::host)
    throw Error(std::string("cannot copy a device field: ") + kNotBuilt);
  if (from.size() != to.size() || from.stride_y() != to.stride_y())
    throw Error("copy_field: the two fields differ in layout");
  std::memcpy(to.raw(), from.raw(), static_cast<std::size_t>(from.size()) * sizeof(double));
}

namespace detail {

void* device_allocate(std::size_t /*bytes*/) {
  throw Error(std::string("this calor cannot allocate device memory: ") + kNotBuilt);
}

void device_free(void* /*p*/) {}

}  // namespace detail

}  // namespace calor
