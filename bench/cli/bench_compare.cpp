// `calor bench compare`: the comparison study side by side (bench/compare/compare.py), run with
// the project's Python environment and pointed at this calor. compare.py's own flags pass through.

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "bench.hpp"
#include "calor/error.hpp"
#include "launch.hpp"

namespace calor::bench {

int bench_compare_command(const CompareOptions& o) {
  const std::string python = project_python();
  const std::string script = source_dir() + "/bench/compare/compare.py";
  if (::access(script.c_str(), R_OK) != 0)
    throw Error("cannot find the comparison driver '" + script +
                "': set CALOR_SOURCE_DIR to the calor source tree");
  if (::access(python.c_str(), X_OK) != 0)
    throw Error("cannot run '" + python +
                "': create the project's Python environment with `scripts/setup.sh --python` "
                "(or set CALOR_PYTHON to a Python with requirements.txt installed)");
  std::vector<std::string> args{python, script, "--calor", self_path()};
  args.insert(args.end(), o.args.begin(), o.args.end());
  std::vector<char*> argv;
  for (std::string& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  ::execv(python.c_str(), argv.data());
  throw Error("cannot start '" + python + "': " + std::strerror(errno));
}

}  // namespace calor::bench
