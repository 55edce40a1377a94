#pragma once
/// \file output.hpp
/// What a run writes, behind one interface: HDF5 snapshots with an XDMF sidecar that ParaView
/// opens, checkpoints (through a temporary file, fsync and rename; verified on restart by format
/// version, problem fingerprint and checksum) and PNG frames. Each output reads a State; under
/// MPI every rank writes its block of one global dataset collectively.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "calor/image.hpp"
#include "calor/state.hpp"

namespace calor {

/// Something written at scheduled steps of a run. write() is collective; it throws
/// calor::Error naming the file on any failure and leaves files it did not write alone.
class Output {
 public:
  virtual ~Output() = default;
  virtual void write(const State& s) = 0;
  /// What it writes, e.g. "snapshots run.h5 (+ run.xmf)", for the run summary.
  [[nodiscard]] virtual std::string describe() const = 0;
  /// The file it last wrote ("" before the first write).
  [[nodiscard]] virtual std::string last_path() const = 0;
};

/// Appends the state to `h5` as dataset /snapshots/<step> (the file is created by the first
/// write) and rewrites the XDMF file `xmf` (default: h5 with .xmf) listing every snapshot.
std::unique_ptr<Output> make_snapshot_output(const std::string& h5, std::string xmf = "");
/// Writes a checkpoint to `path` each time (see write_checkpoint).
std::unique_ptr<Output> make_checkpoint_output(const std::string& path);
/// Writes PREFIX_<step>.png heat maps (3D: the middle z-slice; 1D: line plots) on rank 0, all
/// in one colour range: `range`, or the first frame's.
std::unique_ptr<Output> make_png_output(const std::string& prefix, ColourRange range = {});

/// out.h5 -> out.xmf
std::string xdmf_path(const std::string& h5);

/// A file a run will write, for the checks before its first step.
struct PlannedFile {
  enum class Kind { snapshots, xdmf, checkpoint, npy, png, partial, other };
  std::string path;
  std::string what;  ///< how messages name it, e.g. "output.path"
  Kind kind = Kind::other;
};

/// Checks the files a run will write before it starts: refuses two of them on one file, a
/// directory where a file is meant, and an existing file calor did not write for that purpose
/// (a snapshot file, an XDMF file or a checkpoint of its own) unless `overwrite`; creates
/// missing parent directories and returns them. Throws calor::Error naming the path and the fix.
std::vector<std::string> check_output_paths(const std::vector<PlannedFile>& files, bool overwrite);

/// The checkpoint format this build writes and reads. 2: sealed (a header with the file's
/// length and CRC-32, checked before HDF5 reads the file; src/output/sealed.hpp).
inline constexpr int kCheckpointVersion = 2;

/// The physics of a problem as key = value lines: what a restart must not change.
std::vector<std::pair<std::string, std::string>> fingerprint(const Problem& p);

/// A checksum of the global interior that does not depend on the decomposition: a wrapping sum
/// over cells of a hash of (global index, value bits). Collective.
std::uint64_t field_checksum(const State& s);

/// Writes a checkpoint of `s` to `path`: to path.tmp first, fsync, the previous checkpoint kept
/// as path.prev, then an atomic rename. On failure the temporary file is removed and any previous
/// checkpoint is left intact; throws calor::Error naming the file. Collective.
void write_checkpoint(const State& s, const std::string& path);

/// "HDF5 1.10.8 (parallel)": the library writing snapshots and checkpoints, for `calor info`.
std::string io_library();

/// What a checkpoint holds besides the field.
struct CheckpointInfo {
  int version = 0;
  std::int64_t step = 0;
  double time = 0;
  std::uint64_t checksum = 0;
  std::vector<std::pair<std::string, std::string>> fingerprint;
  std::string config;  ///< the problem as TOML (problem_toml), from which a restart may start
};

/// Checks the seal of checkpoint `path` (its length and CRC-32; it reads the whole file):
/// throws calor::Error naming what is wrong before HDF5 parses any of it.
void verify_checkpoint(const std::string& path);

/// Reads the header of checkpoint `path`; throws calor::Error if it is not a readable calor
/// checkpoint of a supported version. `verify_seal` false: the caller checked the seal's CRC
/// already (under MPI one rank reads the whole file for it and the ranks agree); only the seal's
/// header and the file's length are checked here.
CheckpointInfo read_checkpoint_info(const std::string& path, bool verify_seal = true);

/// A checkpoint's step and the block of its field that a process asked for.
struct Restored {
  std::int64_t step = 0;
  std::vector<double> block;  ///< dense, x fastest, covering the box asked for
};

/// Reads the header of checkpoint `path` and checks it against problem `now`: refuses, with a
/// message naming each difference, a checkpoint of another problem unless `force` (never one of
/// another grid). Not collective: each rank may check alone.
CheckpointInfo check_checkpoint(const std::string& path, const Problem& now, bool force,
                                bool verify_seal = true);
/// Reads the cells of now.box from checkpoint `path` whose header `info` was checked, and
/// verifies the checksum of the whole field (collective over now.comm).
Restored read_checkpoint_field(const std::string& path, const State& now,
                               const CheckpointInfo& info);
/// check_checkpoint, then read_checkpoint_field: its step and the cells of now.box.
/// Refuses, with a message naming each difference, a checkpoint of another problem unless
/// `force` (never one of another grid); refuses a checksum mismatch (corruption) always.
/// Collective over now.comm.
Restored read_checkpoint(const std::string& path, const State& now, bool force);

/// Reads snapshot or checkpoint dataset `dataset` (empty: the last snapshot, or /field) of `path`
/// into a dense array; `shape` receives its NumPy-order shape.
std::vector<double> read_dataset(const std::string& path, const std::string& dataset,
                                 std::vector<std::int64_t>& shape, std::string* name = nullptr);

}  // namespace calor
