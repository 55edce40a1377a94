// Microbenchmarks of one time step per backend (Google Benchmark). Bytes processed are 16 per
// cell update (one read, one write), so the reported bytes_per_second compares directly with the
// copy bandwidth of BM_Copy and with `calor bench node`'s roofline.

#include <benchmark/benchmark.h>

#include <random>

#include "bandwidth.hpp"
#include "calor/backend.hpp"
#include "calor/config.hpp"
#include "calor/solver.hpp"

namespace {

// Steps the case-study stencil on an n x n random field, `range(1)` threads.
void BM_Step(benchmark::State& state, const char* backend) {
  const auto n = static_cast<calor::index_t>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const calor::Config c =
      calor::load_config("preset = \"stencil\"", "micro",
                         {{"n", std::to_string(n), "micro"}, {"steps", "1", "micro"}});
  calor::Solver s(c.problem, calor::make_backend(backend, calor::BackendOptions{threads, 0}));
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  calor::for_each_cell(c.problem.grid, [&](calor::index_t i, calor::index_t j, calor::index_t k) {
    s.field()(i, j, k) = u(rng);
  });
  // The tiled backend needs several steps per call to block; step 16 at a time for all.
  constexpr int kSteps = 16;
  for (auto _ : state) {
    s.step(kSteps);
    benchmark::DoNotOptimize(s.field().raw());
  }
  const double updates = static_cast<double>(n * n) * kSteps;
  state.SetItemsProcessed(static_cast<std::int64_t>(updates) * state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(updates * calor::kBytesPerUpdate) *
                          state.iterations());
  state.counters["MLUP/s"] =
      benchmark::Counter(updates / 1e6, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Copy(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0)) << 20;
  const int threads = static_cast<int>(state.range(1));
  double gbs = 0;
  for (auto _ : state)
    gbs = calor::measure_copy_bandwidth(bytes, threads, 3).gbs;
  state.counters["copy_GB/s"] = gbs;
}

void sizes(benchmark::internal::Benchmark* b) {
  for (int n : {256, 1024, 4800})
    for (int t : {1, 2})
      b->Args({n, t});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK_CAPTURE(BM_Step, serial, "serial")
    ->Args({1024, 1})
    ->Args({4800, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Step, simd, "simd")
    ->Args({256, 1})
    ->Args({1024, 1})
    ->Args({4800, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Step, threads, "threads")->Apply(sizes);
BENCHMARK_CAPTURE(BM_Step, tiled, "tiled")->Apply(sizes);
BENCHMARK(BM_Copy)->Args({256, 1})->Args({256, 2})->Iterations(1)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
