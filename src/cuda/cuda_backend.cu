// The cuda backend: fields stay in device memory for the whole run; each step fills the halo
// with one kernel per axis (in the CPU's axis order, so corners match; Dirichlet-only faces in
// the first two steps alone) and updates the interior cells, each thread four down a column,
// point sources fused (kernels.hpp). The arithmetic is stencil.hpp's, compiled with
// -fmad=false: the serial backend's bits.
//
// Under MPI (one GPU per rank: the local rank picks it) the physical faces are still filled on
// the device; each exchanged face's first interior layer is packed on a second stream, copied
// to pinned host memory (or handed to a CUDA-aware MPI as it is), exchanged by the domain's
// halo, copied back and unpacked, while the first stream updates the cells that do not need
// it; the layers next to those faces follow (kernels.hpp's DeviceSteps orders it all).
//
// Temporal blocking on the device would be a second advance() path that keeps several steps'
// planes in shared memory; steps_per_pass() is where it would say so.

#include <cuda_runtime.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backends/registry.hpp"
#include "calor/backend.hpp"
#include "calor/device.hpp"
#include "calor/error.hpp"
#include "cuda/check.cuh"
#include "cuda/kernels.hpp"

namespace calor {

namespace {

template <int D, StencilForm F, Heating H, int Rows>
__global__ void sweep_kernel(cuda::SweepParams p, const double* __restrict__ in,
                             double* __restrict__ out) {
  const index_t i = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const index_t j = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
  const index_t k = static_cast<index_t>(blockIdx.z) * blockDim.z + threadIdx.z;
  cuda::sweep_column<D, F, H, Rows>(p, in, out, i, j, k);
}

__global__ void faces_kernel(cuda::AxisFaces f, double* u) {
  const index_t t1 = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const index_t t2 = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
  cuda::axis_face_cell(f, u, t1, t2, blockIdx.z);
}

__global__ void layer_out_kernel(cuda::FaceParams f, const double* u, double* buf) {
  const index_t t1 = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const index_t t2 = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
  cuda::layer_out(f, u, buf, 0, t1, t2);
}

__global__ void layer_in_kernel(cuda::FaceParams f, double* u, const double* buf) {
  const index_t t1 = static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const index_t t2 = static_cast<index_t>(blockIdx.y) * blockDim.y + threadIdx.y;
  cuda::layer_in(f, u, buf, f.to_halo, t1, t2);
}

__global__ void row_stats_kernel(cuda::RowParams r, const double* u, StatsAccumulator* out) {
  cuda::row_stats(r, u, out, static_cast<index_t>(blockIdx.x) * blockDim.x + threadIdx.x);
}

// More point sources than the sweep carries: added by one thread, in the Scheme's order (two
// sources on one cell add in sequence, as on the CPU).
__global__ void sources_kernel(const SourceCell* cells, int count, double* u) {
  for (int s = 0; s < count; ++s)
    u[cells[s].offset] += cells[s].energy;
}

dim3 dims(const std::array<std::uint32_t, 3>& v) {
  return dim3(v[0], v[1], v[2]);
}

// A small device array, freed with its owner.
struct DeviceSources {
  SourceCell* data = nullptr;
  int count = 0;
  explicit DeviceSources(const std::vector<SourceCell>& cells) {
    if (cells.size() <= static_cast<std::size_t>(cuda::kFusedSources)) return;
    count = static_cast<int>(cells.size());
    const std::size_t bytes = cells.size() * sizeof(SourceCell);
    cuda::check(cudaMalloc(&data, bytes), "allocating the point sources on the device");
    const cudaError_t e = cudaMemcpy(data, cells.data(), bytes, cudaMemcpyHostToDevice);
    if (e != cudaSuccess) (void)cudaFree(data);  // no destructor runs for a throwing constructor
    cuda::check(e, "copying the point sources to the device");
  }
  ~DeviceSources() { (void)cudaFree(data); }
  DeviceSources(const DeviceSources&) = delete;
  DeviceSources& operator=(const DeviceSources&) = delete;
};

// This process's rank on its node, from the launcher's environment (0 without one).
int local_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const char* v = std::getenv(name)) return std::atoi(v);
  return 0;
}

// Device copies of a scheme's constant fields (alpha, face alphas, heat), made once. The key
// keeps the host field alive, so its address cannot be reused by another field meanwhile.
using DeviceCopies = std::map<std::shared_ptr<const Field>, Field>;

// Two streams and the step's events, made on first use and kept for the backend's life.
// Blocking streams: they wait for, and are waited for by, the legacy default stream that the
// field copies (copy_field) use.
struct Queues {
  cudaStream_t stream[2] = {nullptr, nullptr};
  cudaEvent_t event[cuda::kEvents] = {};
  bool made = false;  // all of them: a failure part way is retried whole at the next advance
  void make() {
    if (made) return;
    for (cudaStream_t& s : stream)
      if (s == nullptr) cuda::check(cudaStreamCreate(&s), "creating a stream");
    for (cudaEvent_t& e : event)
      if (e == nullptr)
        cuda::check(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "creating an event");
    made = true;
  }
  Queues() = default;
  Queues(const Queues&) = delete;
  Queues& operator=(const Queues&) = delete;
  ~Queues() {
    for (cudaEvent_t e : event)
      if (e != nullptr) (void)cudaEventDestroy(e);
    for (cudaStream_t s : stream)
      if (s != nullptr) (void)cudaStreamDestroy(s);
  }
};

// The packed layers' buffers: device memory, and pinned host memory (so the copies run
// asynchronously, beside the update), each growing to the largest size asked for.
struct LayerMemory {
  double* device = nullptr;
  double* host = nullptr;
  std::size_t size = 0;  // per buffer
  cuda::LayerStore at_least(std::size_t n) {
    if (n > size) {
      release();
      cuda::check(cudaMalloc(&device, 2 * n * sizeof(double)), "allocating the halo buffers");
      cuda::check(cudaMallocHost(&host, 2 * n * sizeof(double)),
                  "allocating pinned host memory for the halo buffers");
      size = n;
    }
    return cuda::LayerStore{device, device + size, host, host + size};
  }
  void release() {
    (void)cudaFree(device);
    (void)cudaFreeHost(host);
    device = host = nullptr;
    size = 0;
  }
  LayerMemory() = default;
  LayerMemory(const LayerMemory&) = delete;
  LayerMemory& operator=(const LayerMemory&) = delete;
  ~LayerMemory() { release(); }
};

// The launches of cuda::DeviceSteps as kernels on the current device's two streams.
struct DeviceExec {
  const DeviceSources* many;
  DeviceCopies* copies;
  LayerMemory* memory;
  Queues* q;

  cudaStream_t on(cuda::Stream s) const { return q->stream[static_cast<int>(s)]; }
  cudaEvent_t ev(cuda::Event e) const { return q->event[static_cast<int>(e)]; }

  const double* read(const std::shared_ptr<const Field>& f) {
    if (!f) return nullptr;
    auto it = copies->find(f);
    if (it == copies->end()) {  // cached only once copied, so a failed copy is not kept
      Field d(f->grid(), f->halo(), MemorySpace::device);
      copy_field(*f, d);
      it = copies->emplace(f, std::move(d)).first;
    }
    return it->second.raw();
  }
  void faces(cuda::Stream s, const cuda::AxisFaces& f, const cuda::Launch& l, double* u) {
    faces_kernel<<<dims(l.grid), dims(l.block), 0, on(s)>>>(f, u);
  }
  template <class S>
  void sweep(cuda::Stream s, const cuda::SweepParams& p, const cuda::Launch& l, const double* in,
             double* out) {
    cuda::with_rows<S::dim>(l, [&](auto rows) {
      sweep_kernel<S::dim, S::form, S::heat, decltype(rows)::value>
          <<<dims(l.grid), dims(l.block), 0, on(s)>>>(p, in, out);
    });
  }
  void sources(cuda::Stream s, double* u) {
    sources_kernel<<<1, 1, 0, on(s)>>>(many->data, many->count, u);
  }
  void layer_out(cuda::Stream s, const cuda::FaceParams& f, const double* u, double* buf) {
    const cuda::Launch l = cuda::face_launch(f);
    layer_out_kernel<<<dims(l.grid), dims(l.block), 0, on(s)>>>(f, u, buf);
  }
  void layer_in(cuda::Stream s, const cuda::FaceParams& f, double* u, const double* buf) {
    const cuda::Launch l = cuda::face_launch(f);
    layer_in_kernel<<<dims(l.grid), dims(l.block), 0, on(s)>>>(f, u, buf);
  }
  cuda::LayerStore layers(index_t values) {
    return memory->at_least(static_cast<std::size_t>(values));
  }
  void copy(cuda::Stream s, double* to, const double* from, index_t values) {
    cuda::check(cudaMemcpyAsync(to, from, static_cast<std::size_t>(values) * sizeof(double),
                                cudaMemcpyDefault, on(s)),
                "copying the halo layers between host and device");
  }
  void record(cuda::Event e, cuda::Stream s) {
    cuda::check(cudaEventRecord(ev(e), on(s)), "recording an event");
  }
  void wait(cuda::Stream s, cuda::Event e) {
    cuda::check(cudaStreamWaitEvent(on(s), ev(e), 0), "ordering the streams");
  }
  void sync(cuda::Event e) {
    cuda::check(cudaGetLastError(), "launching the step kernels");
    cuda::check(cudaEventSynchronize(ev(e)), "packing the halo layers on the device");
  }
  void finish() {
    cuda::check(cudaGetLastError(), "launching the step kernels");
    for (cudaStream_t s : q->stream)
      cuda::check(cudaStreamSynchronize(s), "running the steps on the device");
  }
};

// The statistics of a device field: one thread per row (kernels.hpp's row_stats), the rows'
// accumulators copied back (56 bytes a row, not the row) and merged in order on the host: the
// bits of accumulate() on the host. Too few rows to fill the device: the field is copied into
// `host` (kept, laid out as f) and reduced there.
StatsAccumulator device_statistics(const Field& f, Field& host) {
  const cuda::RowParams r = cuda::row_params(f);
  const index_t rows = r.n[1] * r.n[2];
  if (rows < cuda::kMinDeviceRows) {
    if (host.size() != f.size() || host.stride_y() != f.stride_y())
      host = Field(f.grid(), f.halo());
    copy_field(f, host);
    return accumulate(host);
  }
  std::vector<StatsAccumulator> partial(static_cast<std::size_t>(rows));
  const std::size_t bytes = partial.size() * sizeof(StatsAccumulator);
  StatsAccumulator* d = nullptr;
  cuda::check(cudaMalloc(&d, bytes), "allocating the statistics' rows");
  const auto blocks = static_cast<unsigned>((rows + 255) / 256);
  row_stats_kernel<<<blocks, 256>>>(r, f.raw(), d);
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) e = cudaMemcpy(partial.data(), d, bytes, cudaMemcpyDeviceToHost);
  (void)cudaFree(d);
  cuda::check(e, "reducing the field's rows on the device");
  return cuda::merge_rows(partial);
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device) : device_(device) {}
  [[nodiscard]] std::string_view name() const override { return "cuda"; }
  [[nodiscard]] StatsAccumulator statistics(const Field& f) const override {
    cuda::check(cudaSetDevice(device_), "selecting device " + std::to_string(device_));
    return device_statistics(f, few_rows_);
  }

  void advance(const Scheme& scheme, Halo& halo, Field& cur, Field& next,
               std::int64_t steps) override {
    cuda::check(cudaSetDevice(device_), "selecting device " + std::to_string(device_));
    queues_.make();
    const DeviceSources many(scheme.sources);
    DeviceExec exec{&many, &copies_, &layers_, &queues_};
    try {
      cuda::advance_on(exec, scheme, halo, cur, next, steps, halo.reads_device_memory());
    } catch (...) {
      (void)cudaDeviceSynchronize();  // nothing in flight may outlive the buffers it uses
      throw;
    }
  }

 private:
  int device_;
  DeviceCopies copies_;
  LayerMemory layers_;
  Queues queues_;
  mutable Field few_rows_;  // statistics of fields with too few rows for the device
};

std::unique_ptr<Backend> make(const BackendOptions&) {
  std::string why;
  const std::vector<DeviceInfo> devices = cuda_devices(&why);
  if (devices.empty())
    throw Error("backend 'cuda' cannot run here: " + why +
                ". Use --backend auto, or a CPU backend (serial, simd, threads, tiled)");
  const int device = device_for_local_rank(local_rank(), static_cast<int>(devices.size()));
  // Now, not at the first step: the Solver allocates the fields on the current device next.
  cuda::check(cudaSetDevice(device), "selecting device " + std::to_string(device));
  return std::make_unique<CudaBackend>(device);
}

AutoBid bid(const Grid& block, int /*threads*/) {
  std::string why;
  const std::vector<DeviceInfo> devices = cuda_devices(&why);
  if (devices.empty()) return AutoBid{0, "cuda: " + why};
  const DeviceInfo& d = devices[static_cast<std::size_t>(
      device_for_local_rank(local_rank(), static_cast<int>(devices.size())))];
  const index_t n[3] = {block.n[0], block.n[1], block.n[2]};
  if (!cuda::launch_fits(cuda::sweep_launch(block.dim, n)))
    return AutoBid{0, "cuda: the grid is too thin for CUDA's 65535 blocks along y or z"};
  const double bytes = 2.0 * static_cast<double>(block.cells()) * sizeof(double);
  if (bytes > 0.9 * static_cast<double>(d.memory))
    return AutoBid{0, "cuda: the two fields (" + memory_size(bytes) + ") do not fit in " + d.name +
                          "'s " + memory_size(static_cast<double>(d.memory))};
  return AutoBid{100, "a CUDA device (" + d.name + ", " +
                          memory_size(static_cast<double>(d.memory)) + ") holds the fields"};
}

}  // namespace

const BackendEntry registry::cuda_backend{"cuda", MemorySpace::device, make, bid};

}  // namespace calor
