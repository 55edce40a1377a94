#pragma once
// The readers under fuzzing take file names: each input is written to one file per process in
// /dev/shm (or /tmp), which the target then reads.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace calor::fuzz {

inline std::string input_path(const char* extension) {
  const char* dir = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
  return std::string(dir) + "/calor-fuzz-" + std::to_string(::getpid()) + extension;
}

// Writes the input to `path`; false if it could not (then the input is skipped).
inline bool write_input(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(data, 1, size, f) == size;
  return std::fclose(f) == 0 && ok;
}

}  // namespace calor::fuzz
