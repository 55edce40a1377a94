#pragma once
/// \file hd.hpp
/// CALOR_HD marks the functions that CPU backends and the CUDA kernels share (host and device),
/// so that both compute each cell with the same operations in the same order.

#if defined(__CUDACC__)
#define CALOR_HD __host__ __device__
#else
#define CALOR_HD
#endif
