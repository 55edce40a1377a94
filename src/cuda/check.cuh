#pragma once
// CUDA runtime errors as calor::Error, naming what calor was doing.

#include <cuda_runtime.h>

#include <string>

#include "calor/error.hpp"

namespace calor::cuda {

inline void check(cudaError_t e, const std::string& what) {
  if (e != cudaSuccess)
    throw Error("CUDA error while " + what + ": " + cudaGetErrorName(e) + " (" +
                cudaGetErrorString(e) + ")");
}

}  // namespace calor::cuda
