#include "calor/npy.hpp"

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string_view>

#include "calor/error.hpp"
#include "output/atomic.hpp"
#include "output/isolated.hpp"

namespace calor {

namespace {

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw Error("cannot read .npy file '" + path + "': " + what);
}

// Value of `key` in the header dict, up to the next ',' or '}' at depth 0 (tuples kept whole).
std::string dict_value(const std::string& header, const std::string& path, std::string_view key) {
  std::string quoted = "'";
  quoted.append(key).push_back('\'');
  std::size_t p = header.find(quoted);
  if (p == std::string::npos) fail(path, "header has no " + quoted + " entry");
  p = header.find(':', p);
  if (p == std::string::npos) fail(path, "malformed header");
  ++p;
  int depth = 0;
  std::size_t e = p;
  for (; e < header.size(); ++e) {
    const char c = header[e];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
  }
  std::string v = header.substr(p, e - p);
  const auto b = v.find_first_not_of(" \t");
  const auto l = v.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : v.substr(b, l - b + 1);
}

// The extents of `shape`, the text of a Python tuple of non-negative integers ("(3, 4)", "(5,)",
// "()"); refuses anything else, naming the shape.
std::vector<std::int64_t> parse_shape(const std::string& shape, const std::string& path) {
  if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')')
    fail(path, "malformed shape " + shape);
  std::vector<std::int64_t> dims;
  const std::string inner = shape.substr(1, shape.size() - 2);
  if (inner.find_first_not_of(" \t") == std::string::npos) return dims;  // "()": a 0-d array
  std::size_t p = 0;
  while (true) {
    const std::size_t q = inner.find(',', p);
    const std::string item = inner.substr(p, q == std::string::npos ? std::string::npos : q - p);
    const auto b = item.find_first_not_of(" \t");
    if (b == std::string::npos) {
      // Only a one-element tuple's trailing comma leaves an empty item: "(5,)".
      if (q != std::string::npos || dims.empty()) fail(path, "malformed shape " + shape);
      break;
    }
    const auto e = item.find_last_not_of(" \t") + 1;
    std::int64_t v = 0;
    const auto r = std::from_chars(item.data() + b, item.data() + e, v);
    if (r.ec == std::errc::result_out_of_range)
      fail(path, "shape " + shape + " has an extent beyond 64 bits (a corrupted header?)");
    if (r.ec != std::errc() || r.ptr != item.data() + e || v < 0)
      fail(path, "malformed shape " + shape);
    dims.push_back(v);
    if (q == std::string::npos) break;
    p = q + 1;
  }
  return dims;
}

}  // namespace

std::vector<std::int64_t> numpy_shape(const Grid& g) {
  std::vector<std::int64_t> s;
  for (int d = g.dim - 1; d >= 0; --d)
    s.push_back(g.n[d]);
  return s;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string r = "(";
  for (std::size_t i = 0; i < shape.size(); ++i)
    r += (i ? ", " : "") + std::to_string(shape[i]);
  return r + (shape.size() == 1 ? ",)" : ")");
}

NpyArray load_npy(const std::string& path) {
  require_regular_file(path, ".npy file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string(std::strerror(errno)) + " (check the path)");
  // The file's real size: the header is checked against it before anything is allocated.
  in.seekg(0, std::ios::end);
  const std::streamoff file_size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (file_size < 0 || !in) fail(path, "cannot determine its size");
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    fail(path, "not a NumPy .npy file (bad magic bytes)");
  const int major = static_cast<unsigned char>(magic[6]);
  std::size_t header_len = 0;
  if (major == 1) {
    unsigned char b[2];
    if (!in.read(reinterpret_cast<char*>(b), 2)) fail(path, "truncated header");
    header_len = b[0] | (b[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char b[4];
    if (!in.read(reinterpret_cast<char*>(b), 4)) fail(path, "truncated header");
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::size_t>(b[3]) << 24);
  } else {
    fail(path, "unsupported .npy format version " + std::to_string(major));
  }
  const auto data_start = static_cast<std::streamoff>(in.tellg());
  if (header_len > (1u << 20))
    fail(path, "header length " + std::to_string(header_len) + " too large");
  if (static_cast<std::streamoff>(header_len) > file_size - data_start)
    fail(path, "truncated header: it promises " + std::to_string(header_len) +
                   " bytes, the file has " + std::to_string(file_size) + " in all");
  std::string header(header_len, '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(header_len)))
    fail(path, "truncated header");

  const std::string descr = dict_value(header, path, "descr");
  if (descr != "'<f8'" && descr != "'=f8'" && descr != "'f8'")
    fail(path,
         "dtype is " + descr + ", expected '<f8' (float64); convert with arr.astype(np.float64)");
  if (dict_value(header, path, "fortran_order") != "False")
    fail(path, "array is in Fortran order; save a C-ordered array (np.ascontiguousarray)");
  const std::string shape = dict_value(header, path, "shape");
  NpyArray a;
  a.shape = parse_shape(shape, path);
  // Overflow-checked: the number of values, then their bytes, must fit in a signed 64-bit size.
  std::int64_t count = 1, bytes = 0;
  bool overflow = false;
  for (const std::int64_t d : a.shape)
    overflow = overflow || __builtin_mul_overflow(count, d, &count);
  if (overflow || __builtin_mul_overflow(count, std::int64_t{8}, &bytes))
    fail(path,
         "shape " + shape + ": its size in float64 bytes overflows 64 bits (a corrupted header?)");
  const std::streamoff data_at = data_start + static_cast<std::streamoff>(header_len);
  const std::streamoff have = file_size - data_at;
  if (bytes > have)
    fail(path, "its header's shape " + shape + " promises " + std::to_string(bytes) +
                   " bytes of float64 data, but the file has " + std::to_string(have) +
                   " bytes after its header (" + std::to_string(file_size) +
                   " in all): the file is truncated or its header is wrong");
  a.data.resize(static_cast<std::size_t>(count));
  if (!in.read(reinterpret_cast<char*>(a.data.data()), static_cast<std::streamsize>(bytes)))
    fail(path, "file is truncated: expected " + std::to_string(count) +
                   " float64 values for shape " + shape);
  return a;
}

void save_npy(const std::string& path, const std::vector<std::int64_t>& shape, const double* data) {
  std::string dims;
  std::size_t count = 1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    dims += (d ? ", " : "") + std::to_string(shape[d]);
    count *= static_cast<std::size_t>(shape[d]);
  }
  if (shape.size() == 1) dims += ",";  // Python's one-element tuple: "(3,)"
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Pad so that magic(6) + version(2) + len(2) + header + '\n' is a multiple of 64.
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  // All or nothing: a full disk leaves no truncated .npy under `path`.
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error("cannot write .npy file '" + tmp + "': " + std::strerror(errno));
    const unsigned char len[2] = {static_cast<unsigned char>(header.size() & 0xff),
                                  static_cast<unsigned char>(header.size() >> 8)};
    out.write("\x93NUMPY\x01\x00", 8);
    out.write(reinterpret_cast<const char*>(len), 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * 8));
    out.close();
    if (!out) throw Error("cannot write .npy file '" + path + "': write failed (disk full?)");
  });
}

}  // namespace calor
