#pragma once
/// \file io.hpp
/// Output that survives failure: HDF5 snapshots with an XDMF sidecar that ParaView opens, and
/// checkpoints written through a temporary file, fsync and rename, verified on restart by format
/// version, problem fingerprint and checksum. Under MPI every rank writes its block of one global
/// dataset collectively.

#include <cstdint>
#include <string>
#include <vector>

#include "calor/solver.hpp"

namespace calor {

/// The checkpoint format this build writes and reads.
inline constexpr int kCheckpointVersion = 1;

/// The physics of a problem as key = value lines: what a restart must not change.
std::vector<std::pair<std::string, std::string>> fingerprint(const Problem& p);

/// A checksum of the global interior that does not depend on the decomposition: a wrapping sum
/// over cells of a hash of (global index, value bits). Collective under MPI.
std::uint64_t field_checksum(const Solver& s);

/// Appends the current state to the snapshot file `h5` (created on the first call of a run, when
/// `create`), as dataset /snapshots/<step>, and rewrites the XDMF file `xmf` listing every
/// snapshot written so far. Collective. Throws calor::Error naming the file on any failure.
class SnapshotWriter {
 public:
  SnapshotWriter(std::string h5, std::string xmf) : h5_(std::move(h5)), xmf_(std::move(xmf)) {}
  void write(const Solver& s);
  [[nodiscard]] const std::string& path() const { return h5_; }

 private:
  std::string h5_, xmf_;
  std::vector<std::pair<std::int64_t, double>> written_;  // step, time
};

/// Writes a checkpoint of `s` to `path`: to path.tmp first, fsync, the previous checkpoint kept
/// as path.prev, then an atomic rename. On failure the temporary file is removed and any previous
/// checkpoint is left intact; throws calor::Error naming the file. Collective.
void write_checkpoint(const Solver& s, const std::string& path);

// Call before MPI_Init. Open MPI 4.1's default MPI-IO component (OMPIO) can write wrong bytes in
// collective writes of uneven hyperslabs (seen at 3 ranks; the checkpoint checksum catches it),
// so this selects ROMIO (OMPI_MCA_io=romio321) unless the user has chosen a component.
void prefer_reliable_mpi_io();

/// "HDF5 1.10.8 (parallel)": the library writing snapshots and checkpoints, for `calor info`.
std::string io_library();

/// What a checkpoint holds besides the field.
struct CheckpointInfo {
  int version = 0;
  std::int64_t step = 0;
  double time = 0;
  std::uint64_t checksum = 0;
  std::vector<std::pair<std::string, std::string>> fingerprint;
};

/// Reads the header of checkpoint `path`; throws calor::Error if it is not a readable calor
/// checkpoint of a supported version.
CheckpointInfo read_checkpoint_info(const std::string& path);

/// Loads checkpoint `path` into `s` (its field, step count). Refuses, with a message naming each
/// difference, a checkpoint of another problem unless `force`; refuses a checksum mismatch
/// (corruption) always. Collective.
void restore_checkpoint(Solver& s, const std::string& path, bool force);

/// Reads snapshot or checkpoint dataset `dataset` (empty: the last snapshot, or /field) of `path`
/// into a dense array; `shape` receives its NumPy-order shape.
std::vector<double> read_dataset(const std::string& path, const std::string& dataset,
                                 std::vector<std::int64_t>& shape, std::string* name = nullptr);

}  // namespace calor
