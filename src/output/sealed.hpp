#pragma once
// Sealed checkpoints: a checkpoint's first 512 bytes (an HDF5 user block, which HDF5 skips) are a
// text header giving the file's length and the CRC-32 of everything after the header. A restart
// checks the seal before HDF5 parses a byte of the file: HDF5 1.10 crashes on some damaged
// files, and a truncated or bit-flipped checkpoint is then refused with a clear message instead.
//
//   calor checkpoint seal 1
//   bytes 1846144
//   crc32 9c1f0e2a
//   (spaces up to byte 511, then a newline)

#include <cstddef>
#include <string>
#include <vector>

namespace calor {

/// The header's size: the HDF5 user block of a checkpoint (H5Pset_userblock).
inline constexpr std::size_t kSealSize = 512;

/// Writes the header into the first kSealSize bytes of a checkpoint's in-memory image.
void seal_image(std::vector<char>& image);
/// Writes the header into the first kSealSize bytes of the closed file `path`, reading the rest
/// to checksum it; throws calor::Error naming the file.
void seal_file(const std::string& path);
/// Whether `path` starts with a seal header (it is a calor checkpoint, intact or not).
bool has_seal(const std::string& path);
/// Throws calor::Error, naming `path` and what is wrong (not a calor checkpoint, truncated,
/// damaged), unless its seal matches its length and, with `contents`, its CRC-32 (which reads
/// the whole file; without, only the header and the file's size are read).
void check_seal(const std::string& path, bool contents = true);

}  // namespace calor
