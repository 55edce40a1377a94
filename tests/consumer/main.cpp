// Runs a small problem through an installed calor's public API: the case study's three sources
// put in energy 1 each per step, so 20 steps leave a heat of exactly 60 (on a 240^2 grid; on a
// smaller one, such as 96^2, some heat already leaves through the cold boundary).
#include <cstdio>
#include <exception>

#include "calor/comm.hpp"
#include "calor/config.hpp"
#include "calor/run.hpp"
#include "calor/stats.hpp"
#include "calor/version.hpp"

int main() {
  try {
    const calor::Config config =
        calor::load_config("preset = \"stencil\"\nn = 240\nsteps = 20\n", "consumer");
    calor::Run run(config, calor::Comm());
    const calor::RunReport report = run.run();
    const calor::Stats stats = run.stats();
    std::printf("calor %s: %s, step %lld, heat %.17g\n", calor::kVersion, run.engine().c_str(),
                static_cast<long long>(report.step), stats.heat);
    if (report.step != 20 || stats.heat != 60.0) {
      std::fprintf(stderr, "FAIL: expected step 20 and heat 60 exactly\n");
      return 1;
    }
    std::printf("PASS: an installed calor ran the stencil case\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FAIL: %s\n", e.what());
    return 1;
  }
}
