#include "calor/backend.hpp"

#include "calor/error.hpp"

namespace calor {

std::unique_ptr<Backend> make_serial_backend();

std::vector<std::string> backend_names() {
  return {"auto", "serial"};
}

std::pair<std::string, std::string> auto_backend_choice(const Grid& /*grid*/) {
  return {"serial", "the only backend compiled in"};
}

std::unique_ptr<Backend> make_backend(std::string_view name, const BackendOptions& /*opt*/) {
  if (name == "auto") return make_backend(auto_backend_choice(Grid{}).first);
  if (name == "serial") return make_serial_backend();
  std::string list;
  for (const auto& n : backend_names())
    list += (list.empty() ? "" : ", ") + n;
  throw Error("unknown backend '" + std::string(name) + "': choose one of " + list);
}

}  // namespace calor
