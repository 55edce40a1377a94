// calor_gpu_bench: the cuda backend beside the device's own copy bandwidth, measured in the same
// run (scripts/gpu-check.sh runs it on a machine with a GPU; without one it says so and exits 77,
// "skipped").
//
//   calor_gpu_bench [N] [STEPS]     (default the case study: 4800, 500)
//
// It prints, as Markdown:
// - the device-to-device copy bandwidth (cudaMemcpy of 2 GiB, best of 5, bytes read + written):
//   the GPU roofline;
// - the case study on the cuda backend: the time of the steps alone (CUDA events around
//   Solver::step, so kernels and halo kernels only) and end to end (field allocation, initial
//   copy, the steps, statistics copied back), MLUP/s, GB/s at 16 B per update, and the fraction
//   of the roofline;
// - the heat, max and L2 of the final field (the case study's 1500.0000 for N = 4800).

#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "calor/backend.hpp"
#include "calor/config.hpp"
#include "calor/device.hpp"
#include "calor/solver.hpp"
#include "copy_bandwidth.cuh"
#include "cuda/check.cuh"

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 4800;
  const long steps = argc > 2 ? std::atol(argv[2]) : 500;
  std::string why;
  const auto devices = calor::cuda_devices(&why);
  if (devices.empty()) {
    std::printf("calor_gpu_bench: skipped: %s\n", why.c_str());
    return 77;
  }
  try {
    std::printf("## GPU: %s, %s\n\n", devices[0].name.c_str(),
                calor::memory_size(static_cast<double>(devices[0].memory)).c_str());
    const double roofline = calor::bench::copy_bandwidth(std::size_t{2} << 30);
    std::printf("- device-to-device copy (2 GiB, best of 5): %.0f GB/s\n", roofline);
    const auto t0 = std::chrono::steady_clock::now();
    const calor::Config c = calor::load_config("preset = \"stencil\"\nn = " + std::to_string(n) +
                                                   "\nsteps = " + std::to_string(steps) + "\n",
                                               "gpu_bench");
    calor::Solver s(c.problem, calor::make_backend("cuda"));
    s.step(1);  // warm-up: module load, first launches
    cudaEvent_t start, stop;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    cudaEventRecord(start);
    s.step(steps - 1);
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    const calor::Stats st = s.stats();
    const double total =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double updates =
        static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(steps - 1);
    const double mlups = updates / (ms * 1e-3) / 1e6;
    const double gbs = mlups * calor::kBytesPerUpdate / 1e3;
    std::printf("- case study %ld^2, %ld steps (steps timed: %ld):\n", n, steps, steps - 1);
    std::printf(
        "  - steps alone (CUDA events): %.2f ms, %.0f MLUP/s, %.0f GB/s = %.2f of the copy "
        "bandwidth\n",
        ms, mlups, gbs, gbs / roofline);
    std::printf(
        "  - end to end (allocation, initial copy, %ld steps, statistics back): %.2f ms, "
        "%.2fx the steps' time\n",
        steps, total * 1e3, total * 1e3 / ms);
    std::printf("  - heat %.4f, max %.17g, l2 %.17g\n", st.heat, st.max, st.l2);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "calor_gpu_bench: %s\n", e.what());
    return 1;
  }
}
