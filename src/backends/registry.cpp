#include "calor/backend.hpp"

#include "calor/error.hpp"
#include "calor/machine.hpp"

namespace calor {

std::unique_ptr<Backend> make_serial_backend();
std::unique_ptr<Backend> make_simd_backend();
std::unique_ptr<Backend> make_threads_backend(int threads);
std::unique_ptr<Backend> make_tiled_backend(int threads, int depth, int width);
const char* tiling_obstacle(const Grid& g);

BackendChoice auto_backend_choice(const Grid& grid, int threads) {
  if (threads <= 0) threads = default_threads();
  const double bytes = 2.0 * static_cast<double>(grid.cells()) * sizeof(double);
  const bool fits = bytes <= 0.5 * static_cast<double>(caches().llc);
  if (const char* why = tiling_obstacle(grid); why == nullptr && !fits)
    return {"tiled", "the fields (" + std::to_string(static_cast<long long>(bytes / 1e6)) +
                         " MB) exceed the cache: temporal blocking reuses each cell for several "
                         "steps per trip to memory"};
  if (threads == 1) return {"simd", "one thread: the vectorised sweep"};
  if (fits)
    return {"threads", "the fields fit in the cache, where a plain sweep on every core is fastest"};
  return {"threads", std::string("no temporal blocking here: ") + tiling_obstacle(grid)};
}

std::unique_ptr<Backend> select_backend(std::string_view name, const BackendOptions& opt,
                                        const Grid& grid, std::string* reason) {
  if (name != "auto") {
    if (reason != nullptr) *reason = "chosen by the user";
    return make_backend(name, opt);
  }
  BackendChoice c = auto_backend_choice(grid, opt.threads);
  if (reason != nullptr) *reason = "auto: " + c.reason;
  return make_backend(c.name, opt);
}

std::unique_ptr<Backend> make_backend(std::string_view name, const BackendOptions& opt) {
  if (name == "serial") return make_serial_backend();
  if (name == "simd") return make_simd_backend();
  if (name == "threads") return make_threads_backend(opt.threads);
  if (name == "tiled") return make_tiled_backend(opt.threads, opt.tile_depth, opt.tile_width);
  std::string list;
  for (const auto& n : backend_names())
    list += (list.empty() ? "" : ", ") + n;
  throw Error("unknown backend '" + std::string(name) + "': choose one of " + list + "");
}

}  // namespace calor
