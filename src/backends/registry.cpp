#include "backends/registry.hpp"

#include <array>
#include <string>

#include "calor/device.hpp"
#include "calor/error.hpp"
#include "calor/machine.hpp"

namespace calor {

namespace {

#define CALOR_BACKEND_ADDRESS(id) &registry::id##_backend,
constexpr std::array kEntries{CALOR_BACKENDS(CALOR_BACKEND_ADDRESS)};
#undef CALOR_BACKEND_ADDRESS

const BackendEntry* find(std::string_view name) {
  for (const BackendEntry* e : kEntries)
    if (e->name == name) return e;
  return nullptr;
}

}  // namespace

BackendChoice auto_backend_choice(const Grid& grid, int threads) {
  if (threads <= 0) threads = default_threads();
  const BackendEntry* best = nullptr;
  AutoBid winner;
  std::string declined;
  for (const BackendEntry* e : kEntries) {
    if (e->bid == nullptr) continue;
    AutoBid b = e->bid(grid, threads);
    if (b.score == 0) {
      if (!b.reason.empty()) declined += (declined.empty() ? "" : "; ") + b.reason;
    } else if (best == nullptr || b.score > winner.score) {
      best = e;
      winner = std::move(b);
    }
  }
  if (best == nullptr) throw Error("no backend offers to run this grid (a registry defect)");
  return {std::string(best->name), winner.reason.empty() ? declined : winner.reason};
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
  if (const BackendEntry* e = find(name)) return e->make(opt);
  if (name == "cuda" && !cuda_compiled()) {
    std::string why;
    (void)cuda_devices(&why);
    throw Error("backend 'cuda' is not in this calor: " + why);
  }
  std::string list;
  for (const auto& n : backend_names())
    list += (list.empty() ? "" : ", ") + n;
  throw Error("unknown backend '" + std::string(name) + "': choose one of " + list);
}

MemorySpace backend_memory_space(std::string_view name) {
  const BackendEntry* e = find(name);
  return e != nullptr ? e->space : MemorySpace::host;
}

}  // namespace calor
