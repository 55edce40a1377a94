#include "output/sealed.hpp"

#include <sys/stat.h>
#include <zlib.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <system_error>

#include "calor/error.hpp"

namespace calor {

namespace {

constexpr char kMagic[] = "calor checkpoint seal 1\n";

// The header for a file of `bytes` bytes whose contents after the header have CRC `crc`.
std::string header(std::uint64_t bytes, unsigned long crc) {
  char text[128];
  std::snprintf(text, sizeof text, "%sbytes %" PRIu64 "\ncrc32 %08lx\n", kMagic, bytes, crc);
  std::string h(text);
  h.resize(kSealSize - 1, ' ');
  return h + '\n';
}

// zlib's crc32 over `size` bytes, in pieces that fit its uInt length.
unsigned long crc_of(unsigned long crc, const char* data, std::size_t size) {
  while (size > 0) {
    const std::size_t n = size < (1u << 30) ? size : (1u << 30);
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(data), static_cast<uInt>(n));
    data += n;
    size -= n;
  }
  return crc;
}

// The CRC of `path` from byte kSealSize to its end, and its length.
unsigned long crc_of_file(const std::string& path, std::uint64_t& bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read checkpoint '" + path + "': " + std::strerror(errno));
  in.seekg(static_cast<std::streamoff>(kSealSize));
  unsigned long crc = ::crc32(0L, Z_NULL, 0);
  std::vector<char> buf(1 << 20);
  bytes = kSealSize;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    crc = crc_of(crc, buf.data(), got);
    bytes += got;
  }
  if (in.bad()) throw Error("cannot read checkpoint '" + path + "': " + std::strerror(errno));
  return crc;
}

// The file whose contents last matched their seal, by identity: a restart from the command
// line checks the seal before it reads the problem, and the run checks it again as it loads
// the field; a large checkpoint is then read once, not twice. Any change to the file (another
// inode, size or modification time) checks it again.
struct Identity {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const Identity&) const = default;
};

std::optional<Identity> identity(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return Identity{st.st_dev, st.st_ino, st.st_size,
                  std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec};
}

std::mutex verified_lock;
std::optional<Identity> verified;  // guarded by verified_lock

}  // namespace

void seal_image(std::vector<char>& image) {
  if (image.size() < kSealSize) throw Error("a checkpoint image is smaller than its seal");
  const unsigned long crc =
      crc_of(::crc32(0L, Z_NULL, 0), image.data() + kSealSize, image.size() - kSealSize);
  const std::string h = header(image.size(), crc);
  std::memcpy(image.data(), h.data(), kSealSize);
}

void seal_file(const std::string& path) {
  std::uint64_t bytes = 0;
  const unsigned long crc = crc_of_file(path, bytes);
  const std::string h = header(bytes, crc);
  std::FILE* f = std::fopen(path.c_str(), "r+b");
  const bool ok = f != nullptr && std::fwrite(h.data(), 1, h.size(), f) == h.size();
  if (f == nullptr || std::fclose(f) != 0 || !ok)
    throw Error("cannot seal checkpoint '" + path + "': " + std::strerror(errno));
}

bool has_seal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[sizeof kMagic - 1] = {};
  in.read(head, sizeof head);
  return in && std::memcmp(head, kMagic, sizeof head) == 0;
}

void check_seal(const std::string& path, bool contents) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read checkpoint '" + path + "': " + std::strerror(errno));
  std::string head(kSealSize, '\0');
  in.read(head.data(), static_cast<std::streamsize>(kSealSize));
  in.close();
  std::uint64_t want = 0;
  unsigned long want_crc = 0;
  if (head.compare(0, sizeof kMagic - 1, kMagic) != 0 ||
      std::sscanf(head.c_str() + sizeof kMagic - 1, "bytes %" SCNu64 "\ncrc32 %lx", &want,
                  &want_crc) != 2)
    throw Error("'" + path +
                "' is not a calor checkpoint: it lacks the seal that calor writes at its start "
                "(a checkpoint from a calor older than format 2, or another file)");
  std::uint64_t bytes = 0;
  unsigned long crc = want_crc;
  const std::optional<Identity> id = contents ? identity(path) : std::nullopt;
  {
    const std::lock_guard<std::mutex> lock(verified_lock);
    if (id && id == verified) return;  // checked already, unchanged since
  }
  if (contents) {
    crc = crc_of_file(path, bytes);
  } else {
    std::error_code ec;
    bytes = std::filesystem::file_size(path, ec);
    if (ec) throw Error("cannot read checkpoint '" + path + "': " + ec.message());
  }
  if (bytes != want)
    throw Error("checkpoint '" + path + "' is " + std::to_string(bytes) + " bytes, its seal says " +
                std::to_string(want) + ": " + (bytes < want ? "truncated" : "damaged") +
                "; try its .prev copy");
  if (crc != want_crc)
    throw Error("checkpoint '" + path +
                "' is damaged: its contents do not match the CRC-32 in its seal; try its .prev "
                "copy");
  if (contents && id) {
    const std::lock_guard<std::mutex> lock(verified_lock);
    verified = id;
  }
}

}  // namespace calor
