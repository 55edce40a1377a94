// libFuzzer target: the configuration parser must turn any input into a Config or a calor::Error,
// never a crash, a hang or undefined behaviour. Built by tests/fuzz/run.sh with clang.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "calor/config.hpp"
#include "calor/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The first line, if it looks like KEY=VALUE, is also tried as a command-line override.
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<calor::Override> overrides;
  const auto nl = text.find('\n');
  const std::string first(text.substr(0, nl == std::string_view::npos ? text.size() : nl));
  if (const auto eq = first.find('='); eq != std::string::npos && eq > 0 && first[0] == '-')
    overrides.push_back({first.substr(1, eq - 1), first.substr(eq + 1), "--set"});
  try {
    (void)calor::load_config(text, "fuzz.toml", overrides);
  } catch (const calor::Error&) {
    // A clear error is the right answer to bad input.
  }
  return 0;
}
