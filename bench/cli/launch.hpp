#pragma once
// Starting other programs from the bench commands: this calor again under mpiexec (a hidden
// `calor bench ...-worker` subcommand that prints one RESULT line), and the project's Python.

#include <functional>
#include <map>
#include <string>

namespace calor::bench {

/// This program's path (/proc/self/exe), for commands that start it again; "calor" if unknown.
std::string self_path();

/// Cores of this machine (at least 1): more ranks than this are oversubscribed, time-shared.
int machine_cores();

/// `s` single-quoted for /bin/sh.
std::string shell_quote(const std::string& s);

/// Runs `command` with /bin/sh, its stderr joined to its stdout, and hands each output line
/// (without its newline) to `line` as it arrives. Returns the exit status (128 + the signal if a
/// signal ended it); throws calor::Error if the shell cannot be started.
int run_lines(const std::string& command, const std::function<void(const std::string&)>& line);

/// The fields of a worker's line `RESULT key=value key=value ...`. A value runs up to the next
/// ` key=`, so the last one may hold spaces (e.g. layout=4 ranks as 2 x 2).
struct WorkerResult {
  std::map<std::string, std::string> fields;
  /// The field as a number; throws calor::Error if it is missing or not a number.
  [[nodiscard]] double number(const std::string& key) const;
  /// The field's text; throws calor::Error if it is missing.
  [[nodiscard]] const std::string& text(const std::string& key) const;
};

/// Runs `mpiexec --oversubscribe MPIEXEC_OPTIONS -n RANKS <this calor> bench WORKER_ARGS` and
/// returns the fields of its RESULT line; throws calor::Error with the whole output if there is
/// none.
WorkerResult launch_worker(int ranks, const std::string& worker_args,
                           const std::string& mpiexec_options = "");

/// The calor source tree: $CALOR_SOURCE_DIR, else the tree this calor was built from.
std::string source_dir();
/// The project's Python: $CALOR_PYTHON, else source_dir()/.venv/bin/python (scripts/setup.sh
/// --python creates it from requirements.txt).
std::string project_python();

}  // namespace calor::bench
