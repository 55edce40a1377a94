// calor_gpu_variants: where the cuda backend's time per step goes, each variant timed with CUDA
// events over STEPS steps (best of 3, after a warm-up), beside the device's copy bandwidth
// measured in the same run. Two grids with Dirichlet faces: the case study's (N^2) and a cube
// (M^3). The solver row runs each grid's problem as configured (the case study's three point
// sources; none in the cube); the other rows sweep a random field with the factored weights of
// r = 1/(2 dim + 2) and three point sources fused.
//
//   calor_gpu_variants [N] [STEPS] [M] [STEPS3]     (default 4800 500 512 100)
//
// - "solver": the cuda backend through Solver::step, as a run does it;
// - "sweep BX x BY x BZ, rows R": the backend's sweep_column alone (R cells down a column per
//   thread, their neighbours along y in registers), in blocks of BX x BY x BZ threads;
// - "..., no point sources": the same without the three fused sources (not compared): what
//   their compares cost;
// - "faces + sweep, one by one / graph": a face launch per face and the one-cell sweep,
//   launched one after another or replayed from a CUDA graph of two steps (launch gaps).
// Every variant's final field (from the same random start) is compared with the first
// variant's, bit for bit; any difference ends the run with exit status 1. Without a GPU it says
// so and exits 77 ("skipped").

#include <cuda_runtime.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "calor/config.hpp"
#include "calor/device.hpp"
#include "calor/solver.hpp"
#include "copy_bandwidth.cuh"
#include "cuda/check.cuh"
#include "cuda/kernels.hpp"

namespace {

using calor::index_t;
using calor::cuda::check;
using Shape = std::array<unsigned, 3>;

template <int D, int R>
__global__ void column(calor::cuda::SweepParams p, const double* __restrict__ in,
                       double* __restrict__ out) {
  const index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const index_t j = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
  const index_t k = static_cast<index_t>(blockIdx.z) * blockDim.z + threadIdx.z;
  calor::cuda::sweep_column<D, calor::StencilForm::factored, calor::Heating::none, R>(p, in, out, i,
                                                                                      j, k);
}

__global__ void face_one(calor::cuda::FaceParams f, double* u) {
  const index_t t1 = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const index_t t2 = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
  calor::cuda::face_cell(f, u, t1, t2);
}

// Milliseconds of `steps` calls of step(t), timed on stream `s`.
float timed(long steps, const std::function<void(long)>& step, cudaStream_t s = nullptr) {
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  cudaEventRecord(a, s);
  for (long t = 0; t < steps; ++t)
    step(t);
  cudaEventRecord(b, s);
  check(cudaEventSynchronize(b), "running a variant");
  float ms = 0;
  cudaEventElapsedTime(&ms, a, b);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return ms;
}

// One grid: its problem, a random start, two device fields and the table's lines.
struct Bench {
  calor::Config config;
  long steps;
  double roofline;
  calor::Field host, a, b;
  calor::cuda::SweepParams p;
  std::vector<double> want;
  bool all_same = true;  // every variant's final field the first one's

  Bench(const std::string& toml, long s, double copy)
      : config(calor::load_config(toml, "gpu_variants")),
        steps(s),
        roofline(copy),
        host(config.problem.grid, 1),
        a(config.problem.grid, 1, calor::MemorySpace::device),
        b(config.problem.grid, 1, calor::MemorySpace::device) {
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> dist(0, 1);
    const calor::Grid& g = config.problem.grid;
    for (index_t k = 0; k < g.n[2]; ++k)
      for (index_t j = 0; j < g.n[1]; ++j)
        for (index_t i = 0; i < g.n[0]; ++i)
          host(i, j, k) = dist(rng);
    const double r = 1.0 / (2 * g.dim + 2);  // a stable factored form, as the case study's
    p.w = calor::Weights<double>{1 - 2 * g.dim * r, r / (1 - 2 * g.dim * r), r, r, r};
    for (int d = 0; d < 3; ++d)
      p.n[d] = g.n[d];
    p.sy = host.stride_y();
    p.sz = host.stride_z();
    p.base = host.offset(0, 0, 0);
    for (int q = 0; q < 3; ++q)
      calor::cuda::add_source(p, host.offset(g.n[0] / 4 * (q + 1), g.n[1] / 2, g.n[2] / 2), 1.0);
  }
  void line(const std::string& what, float ms, const char* bits) const {
    const double updates = static_cast<double>(config.problem.grid.cells()) * steps;
    const double gbs = updates / (ms * 1e-3) * 16 / 1e9;
    std::printf("| %s | %.2f | %.2f | %.0f | %.0f | %.2f | %s |\n", what.c_str(), ms,
                ms * 1e3 / steps, updates / (ms * 1e-3) / 1e6, gbs, gbs / roofline, bits);
  }
  void solver() const {
    calor::Solver s(config.problem, calor::make_backend("cuda"));
    float best = 1e30f;
    for (int rep = 0; rep < 4; ++rep) {
      const float ms = timed(1, [&](long) { s.step(steps); });
      if (rep > 0 && ms < best) best = ms;
    }
    line("solver (the cuda backend)", best, "-");
  }
  // Best of 3 of `steps` calls of k(in, out), from the random start each time; with `compare`,
  // its final field against the first variant's.
  void run(const std::string& what, const std::function<void(const double*, double*)>& k,
           bool compare = true) {
    float best = 1e30f;
    for (int rep = 0; rep < 4; ++rep) {
      calor::copy_field(host, a);
      const float ms =
          timed(steps, [&](long t) { (t % 2 == 0) ? k(a.raw(), b.raw()) : k(b.raw(), a.raw()); });
      if (rep > 0 && ms < best) best = ms;
    }
    check(cudaGetLastError(), what.c_str());
    if (!compare) {
      line(what, best, "-");
      return;
    }
    calor::Field back(config.problem.grid, 1);
    calor::copy_field(steps % 2 ? b : a, back);
    std::vector<double> got(back.raw(), back.raw() + back.size());
    if (want.empty()) want = got;
    all_same = all_same && got == want;
    line(what, best, got == want ? "same" : "DIFFER");
  }
  // With `sources` false, the sweep without its fused point sources (a different field, not
  // compared): what their compares cost every cell.
  template <int D, int R>
  void sweep(const Shape& block, bool sources = true) {
    calor::cuda::SweepParams q = p;
    if (!sources) q.sources = 0;
    const dim3 grid((p.n[0] + block[0] - 1) / block[0],
                    (p.n[1] + block[1] * R - 1) / (block[1] * R),
                    (p.n[2] + block[2] - 1) / block[2]);
    run(
        "sweep " + std::to_string(block[0]) + " x " + std::to_string(block[1]) + " x " +
            std::to_string(block[2]) + ", rows " + std::to_string(R) +
            (sources ? "" : ", no point sources"),
        [&](const double* in, double* out) {
          column<D, R><<<grid, dim3(block[0], block[1], block[2])>>>(q, in, out);
        },
        sources);
  }
  template <int D>
  void sweeps(const std::vector<Shape>& blocks) {
    for (const Shape& s : blocks) {
      sweep<D, 1>(s);
      sweep<D, 2>(s);
      sweep<D, 4>(s);
      sweep<D, 8>(s);
    }
    const calor::cuda::Launch l = calor::cuda::sweep_launch(D, p.n);  // the backend's shape
    const Shape own{l.block[0], l.block[1], l.block[2]};
    sweep<D, 1>(own, false);
    sweep<D, calor::cuda::sweep_rows(D)>(own, false);
  }
  void faces_and_sweep(const Shape& block);
};

// A launch per face and the one-cell sweep: one after another, then from a graph of two steps.
void Bench::faces_and_sweep(const Shape& block) {
  std::vector<calor::cuda::FaceParams> faces;
  for (int axis = 0; axis < config.problem.grid.dim; ++axis)
    for (int side = 0; side < 2; ++side)
      faces.push_back(calor::cuda::face_geometry(host, axis, side, true));
  const int dim = config.problem.grid.dim;
  const dim3 grid((p.n[0] + block[0] - 1) / block[0], (p.n[1] + block[1] - 1) / block[1],
                  (p.n[2] + block[2] - 1) / block[2]);
  auto one_step = [&](const double* in, double* out, cudaStream_t s) {
    for (const auto& f : faces) {
      const calor::cuda::Launch l = calor::cuda::face_launch(f);
      face_one<<<dim3(l.grid[0], l.grid[1]), dim3(32, 8), 0, s>>>(f, const_cast<double*>(in));
    }
    if (dim == 2)
      column<2, 1><<<grid, dim3(block[0], block[1], block[2]), 0, s>>>(p, in, out);
    else
      column<3, 1><<<grid, dim3(block[0], block[1], block[2]), 0, s>>>(p, in, out);
  };
  run("faces + sweep, one by one", [&](const double* in, double* out) { one_step(in, out, 0); });
  cudaStream_t s;
  cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
  one_step(a.raw(), b.raw(), s);
  one_step(b.raw(), a.raw(), s);
  cudaStreamEndCapture(s, &graph);
  check(cudaGraphInstantiate(&exec, graph, 0), "instantiating the graph");
  float best = 1e30f;
  for (int rep = 0; rep < 4; ++rep) {
    const float ms = timed(
        steps / 2, [&](long) { cudaGraphLaunch(exec, s); }, s);
    if (rep > 0 && ms < best) best = ms;
  }
  // The graph ran 2 (steps / 2) steps: per step as the other rows.
  line("faces + sweep, graph of 2 steps", best * static_cast<float>(steps) / (2 * (steps / 2)),
       "-");
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(s);
}

const char* kHeader =
    "| variant | ms | us/step | MLUP/s | GB/s | of copy | bits |\n|---|---|---|---|---|---|---|\n";

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 4800;
  const long steps = argc > 2 ? std::atol(argv[2]) : 500;
  const long m = argc > 3 ? std::atol(argv[3]) : 512;
  const long steps3 = argc > 4 ? std::atol(argv[4]) : 100;
  std::string why;
  if (calor::cuda_devices(&why).empty()) {
    std::printf("calor_gpu_variants: skipped: %s\n", why.c_str());
    return 77;
  }
  try {
    const double copy = calor::bench::copy_bandwidth(std::size_t{2} << 30);
    std::printf("device copy bandwidth %.0f GB/s\n\n### %ld^2, %ld steps\n\n%s", copy, n, steps,
                kHeader);
    {
      Bench b2("preset = \"stencil\"\nn = " + std::to_string(n) +
                   "\nsteps = " + std::to_string(steps) + "\n",
               steps, copy);
      b2.solver();
      b2.sweeps<2>({{32, 8, 1}, {128, 2, 1}, {128, 1, 1}, {256, 1, 1}, {64, 4, 1}});
      b2.faces_and_sweep({32, 8, 1});
      if (!b2.all_same) return 1;
    }
    std::printf("\n### %ld^3, %ld steps\n\n%s", m, steps3, kHeader);
    const std::string mm = std::to_string(m);
    Bench b3("dim = 3\nn = [" + mm + ", " + mm + ", " + mm +
                 "]\nsteps = " + std::to_string(steps3) + "\n",
             steps3, copy);
    b3.solver();
    b3.sweeps<3>({{32, 4, 2}, {32, 1, 8}, {64, 1, 4}, {128, 1, 2}, {64, 2, 2}, {128, 2, 1}});
    b3.faces_and_sweep({32, 4, 2});
    return b3.all_same ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "calor_gpu_variants: %s\n", e.what());
    return 1;
  }
}
