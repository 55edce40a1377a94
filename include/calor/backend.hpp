#pragma once
/// \file backend.hpp
/// How time steps are computed. One small interface; one implementation per file under
/// src/backends/, each registered with its name, memory space and "auto" bid
/// (src/backends/registry.hpp). Every backend calls the shared cell update in stencil.hpp.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "calor/field.hpp"
#include "calor/halo.hpp"
#include "calor/scheme.hpp"
#include "calor/stats.hpp"

namespace calor {

/// Bytes a sweep must move per cell update at least: one read and one write of a double. The
/// "effective GB/s" of every report is MLUP/s times this.
inline constexpr int kBytesPerUpdate = 16;

/// What a cell update of `p` moves at least: kBytesPerUpdate, plus a read of each axis's face
/// alpha where alpha varies (precomputed, so that a step does no division: a trade of 8 B per
/// axis for the divisions that bounded the kernel, docs/benchmarks.md) and of q where a source
/// field is given.
inline int bytes_per_update(const Problem& p) {
  return kBytesPerUpdate + (p.diffusivity.empty() ? 0 : 8 * p.grid.dim) +
         (p.sources.field.empty() ? 0 : 8);
}

/// Computes time steps on a pair of fields.
class Backend {
 public:
  virtual ~Backend() = default;
  /// The name users select it by, e.g. "serial".
  [[nodiscard]] virtual std::string_view name() const = 0;
  /// Advances `steps` steps. `cur` holds the state on entry and on return (the backend may swap
  /// `cur` and `next`); `halo` is updated before each step that reads it.
  virtual void advance(const Scheme& scheme, Halo& halo, Field& cur, Field& next,
                       std::int64_t steps) = 0;
  /// Halo layers this backend would like on fields of `grid` filled by `halo` (the solver may
  /// give fewer where blocks are thin). A backend that takes several steps per exchange wants
  /// more than one.
  [[nodiscard]] virtual int halo_width(const Grid& /*grid*/, const Halo& /*halo*/) const {
    return 1;
  }
  /// Steps that advance() takes per pass over memory on fields like `cur` with `halo` (the
  /// tiled backend's block depth; 1 for a plain sweep). Calls of advance() for a multiple of it
  /// run at full depth, so the run loop (Run) sizes its chunks in whole multiples of it.
  [[nodiscard]] virtual std::int64_t steps_per_pass(const Field& /*cur*/,
                                                    const Halo& /*halo*/) const {
    return 1;
  }
  /// This process's statistics of `f` (a field in the backend's memory space), in stats.hpp's
  /// order. The default reads host memory; a device backend reduces the rows where the field
  /// lives and merges them on the host, with the same bits and without copying the field. A
  /// host backend reduces the rows on its threads().
  [[nodiscard]] virtual StatsAccumulator statistics(const Field& f) const {
    return accumulate(f, threads());
  }
  /// How the last advance() worked where the backend chose something (the tiled backend: its
  /// block depth and strips), for the run summary; empty if there is nothing to say.
  [[nodiscard]] virtual std::string plan() const { return {}; }
  /// Host threads per process it steps with: 1 for a single-threaded or device backend.
  [[nodiscard]] virtual int threads() const { return 1; }
};

/// Options a backend may use.
struct BackendOptions {
  int threads = 0;     ///< 0 = the default (OMP_NUM_THREADS or all cores)
  int tile_depth = 0;  ///< tiled: steps per block, 0 = chosen from the cache size
  int tile_width = 0;  ///< tiled: columns (2D) or y-rows (3D) per strip, 0 = from the L2 cache
};

/// A backend picked by "auto", with the reason shown to the user.
struct BackendChoice {
  std::string name;
  std::string reason;
};

/// Names of the backends compiled in, plus "auto".
std::vector<std::string> backend_names();
/// Creates a backend by name; throws calor::Error listing the choices for an unknown name.
std::unique_ptr<Backend> make_backend(std::string_view name, const BackendOptions& opt = {});
/// What "auto" picks for a process's block `grid` and a thread count (0 = default), and why.
BackendChoice auto_backend_choice(const Grid& grid, int threads);
/// The memory space backend `name` keeps its fields in (host for an unknown name).
MemorySpace backend_memory_space(std::string_view name);
/// Creates backend `name`, resolving "auto" for a process's block `grid` with
/// auto_backend_choice; `reason` (if given) receives why that backend runs.
std::unique_ptr<Backend> select_backend(std::string_view name, const BackendOptions& opt,
                                        const Grid& grid, std::string* reason = nullptr);

/// One reference sweep: out = scheme(in) on the interior, then the point sources. Backends that
/// do not tile may call this per step; it fixes the order of operations all must reproduce.
void reference_sweep(const Scheme& scheme, const Field& in, Field& out);

}  // namespace calor
