#pragma once
/// \file device.hpp
/// The GPU as calor sees it: which CUDA devices this process can use, and the explicit copies
/// between host and device memory that fields in MemorySpace::device go through (the one "to
/// host" path of outputs, checkpoints, health checks and Python views). Without a CUDA build
/// every query says why and every copy throws calor::Error.

#include <cstddef>
#include <string>
#include <vector>

#include "calor/field.hpp"

namespace calor {

/// One CUDA device.
struct DeviceInfo {
  int index = 0;
  std::string name;
  std::size_t memory = 0;  ///< bytes of device memory
  int major = 0, minor = 0;
  int multiprocessors = 0;
};

/// True when this calor was compiled with the cuda backend.
bool cuda_compiled();
/// The CUDA devices this process can use. When there are none, `why` (if given) receives the
/// reason: not compiled with CUDA, no driver, no device.
std::vector<DeviceInfo> cuda_devices(std::string* why = nullptr);
/// The device a process of this node's local rank `local_rank` uses: local_rank modulo the
/// devices (one GPU per rank where there are as many).
inline int device_for_local_rank(int local_rank, int devices) {
  return devices > 0 ? local_rank % devices : 0;
}
/// The CUDA device this thread's launches go to (0 without CUDA).
int current_device();

/// Copies all of `from` (halo and padding included) into `to`, which must have the same grid,
/// halo and layout; either may be in host or device memory.
void copy_field(const Field& from, Field& to);

namespace detail {
/// Device memory for Field: `bytes` zeroed, or calor::Error naming the size and the device.
void* device_allocate(std::size_t bytes);
void device_free(void* p);
/// copy_field's copy where either side is in device memory.
void device_copy(void* to, MemorySpace to_space, const void* from, MemorySpace from_space,
                 std::size_t bytes);
}  // namespace detail

}  // namespace calor
