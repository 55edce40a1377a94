// The CUDA runtime as calor uses it: device discovery (with the reason when there is none),
// device memory for Field, and the explicit host <-> device copies.

#include <cuda_runtime.h>

#include <string>

#include "calor/device.hpp"
#include "calor/error.hpp"
#include "cuda/check.cuh"

namespace calor {

bool cuda_compiled() {
  return true;
}

std::vector<DeviceInfo> cuda_devices(std::string* why) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();  // clear it: the next call should not report it again
    if (why != nullptr)
      *why = std::string("no usable CUDA device: the CUDA runtime says \"") +
             cudaGetErrorString(e) + "\"" +
             (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice
                  ? " (no NVIDIA driver or GPU on this machine)"
                  : "");
    return {};
  }
  std::vector<DeviceInfo> devices;
  for (int d = 0; d < count; ++d) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, d) != cudaSuccess) continue;
    devices.push_back({d, p.name, p.totalGlobalMem, p.major, p.minor, p.multiProcessorCount});
  }
  if (devices.empty() && why != nullptr) *why = "the CUDA runtime reports no device";
  return devices;
}

int current_device() {
  int d = 0;
  return cudaGetDevice(&d) == cudaSuccess ? d : 0;
}

namespace detail {

void device_copy(void* to, MemorySpace to_space, const void* from, MemorySpace from_space,
                 std::size_t bytes) {
  const bool src_dev = from_space == MemorySpace::device;
  const bool dst_dev = to_space == MemorySpace::device;
  const cudaMemcpyKind kind = src_dev
                                  ? (dst_dev ? cudaMemcpyDeviceToDevice : cudaMemcpyDeviceToHost)
                                  : (dst_dev ? cudaMemcpyHostToDevice : cudaMemcpyHostToHost);
  cuda::check(cudaMemcpy(to, from, bytes, kind), "copying a field between host and device");
}

void* device_allocate(std::size_t bytes) {
  std::string why;
  if (cuda_devices(&why).empty()) throw Error("cannot allocate device memory: " + why);
  std::size_t free_bytes = 0, total = 0;
  cuda::check(cudaMemGetInfo(&free_bytes, &total), "asking the device for its free memory");
  if (bytes > free_bytes)
    throw Error("a field of " + memory_size(static_cast<double>(bytes)) +
                " does not fit in the device's free memory (" +
                memory_size(static_cast<double>(free_bytes)) + " of " +
                memory_size(static_cast<double>(total)) +
                "): use a smaller grid, more MPI ranks (one GPU each) or a CPU backend");
  void* p = nullptr;
  cuda::check(cudaMalloc(&p, bytes),
              "allocating " + memory_size(static_cast<double>(bytes)) + " of device memory");
  cuda::check(cudaMemset(p, 0, bytes), "zeroing device memory");
  return p;
}

void device_free(void* p) {
  if (p != nullptr) (void)cudaFree(p);  // nothing to do about a failure in a destructor
}

}  // namespace detail

}  // namespace calor
