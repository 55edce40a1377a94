#include "calor/output.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <string_view>

#include "calor/config.hpp"
#include "calor/error.hpp"
#include "calor/field.hpp"
#include "calor/machine.hpp"
#include "output/atomic.hpp"
#include "output/isolated.hpp"
#include "output/sealed.hpp"
#include "parallel/hdf5_mpio.hpp"

namespace calor {

namespace {

std::string num(double v) {  // shortest text that reads back as v
  char b[40];
  const auto r = std::to_chars(b, b + sizeof b, v);
  return std::string(b, r.ptr);
}

// Owns an HDF5 identifier and closes it with the matching function.
class Id {
 public:
  Id(hid_t id, herr_t (*closer)(hid_t)) : id_(id), close_(closer) {}
  ~Id() {
    if (id_ >= 0) close_(id_);
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  Id(Id&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Id& operator=(Id&&) = delete;
  operator hid_t() const { return id_; }  // NOLINT: used as an hid_t everywhere
  [[nodiscard]] bool ok() const { return id_ >= 0; }
  /// Closes now, reporting whether the close succeeded (it flushes).
  bool close() {
    const herr_t r = id_ >= 0 ? close_(id_) : 0;
    id_ = -1;
    return r >= 0;
  }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  std::string hint;
  if (errno == ENOSPC || errno == EFBIG || errno == EDQUOT)
    hint = " (" + std::string(std::strerror(errno)) + ": is the disk full?)";
  else if (errno == EACCES || errno == ENOENT || errno == EROFS)
    hint = " (" + std::string(std::strerror(errno)) +
           ": check that the directory exists and is writable)";
  throw Error("cannot " + what + " '" + path + "'" + hint);
}

// HDF5 prints its own error stack by default; calor reports errors itself.
void quiet_hdf5() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

// File access: MPI-IO when the field is split over several ranks and HDF5 is parallel.
Id file_access(const Comm& c) {
  Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  // Closing a file closes everything in it, even after a failed write.
  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
  use_mpi_io(fapl, c);
  return fapl;
}

Id transfer(const Comm& c) {
  Id dxpl(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
  use_collective_transfer(dxpl, c);
  return dxpl;
}

// Global shape in NumPy order (z, y, x) and this rank's hyperslab.
struct Slab {
  int rank = 0;
  hsize_t dims[3] = {1, 1, 1}, start[3] = {0, 0, 0}, count[3] = {1, 1, 1};
};

Slab slab_of(const State& s) {
  const Grid& g = s.problem->grid;
  const Box& b = s.box;
  Slab sl;
  sl.rank = g.dim;
  for (int d = 0; d < g.dim; ++d) {
    const int axis = g.dim - 1 - d;
    sl.dims[d] = static_cast<hsize_t>(g.n[axis]);
    sl.start[d] = static_cast<hsize_t>(b.low[axis]);
    sl.count[d] = static_cast<hsize_t>(b.size(axis));
  }
  return sl;
}

void attr_double(hid_t obj, const char* name, const double* v, hsize_t n) {
  Id space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Id a(H5Acreate2(obj, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5Awrite(a, H5T_NATIVE_DOUBLE, v);
}

void attr_int(hid_t obj, const char* name, std::int64_t v) {
  Id space(H5Screate(H5S_SCALAR), H5Sclose);
  Id a(H5Acreate2(obj, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5Awrite(a, H5T_NATIVE_INT64, &v);
}

void attr_u64(hid_t obj, const char* name, std::uint64_t v) {
  Id space(H5Screate(H5S_SCALAR), H5Sclose);
  Id a(H5Acreate2(obj, name, H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5Awrite(a, H5T_NATIVE_UINT64, &v);
}

void attr_string(hid_t obj, const char* name, const std::string& v) {
  Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type, v.empty() ? 1 : v.size());
  Id space(H5Screate(H5S_SCALAR), H5Sclose);
  Id a(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5Awrite(a, type, v.empty() ? "" : v.c_str());
}

bool read_attr_int(hid_t obj, const char* name, std::int64_t& v) {
  if (H5Aexists(obj, name) <= 0) return false;
  Id a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  return a.ok() && H5Aread(a, H5T_NATIVE_INT64, &v) >= 0;
}

bool read_attr_u64(hid_t obj, const char* name, std::uint64_t& v) {
  if (H5Aexists(obj, name) <= 0) return false;
  Id a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  return a.ok() && H5Aread(a, H5T_NATIVE_UINT64, &v) >= 0;
}

bool read_attr_double(hid_t obj, const char* name, double& v) {
  if (H5Aexists(obj, name) <= 0) return false;
  Id a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  return a.ok() && H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0;
}

bool read_attr_string(hid_t obj, const char* name, std::string& v) {
  if (H5Aexists(obj, name) <= 0) return false;
  Id a(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  Id type(H5Aget_type(a), H5Tclose);
  const std::size_t size = H5Tget_size(type);
  if (size == 0 || size > (1u << 20)) return false;
  std::string buf(size, '\0');
  Id mem(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(mem, size);
  if (H5Aread(a, mem, buf.data()) < 0) return false;
  v = buf.substr(0, buf.find('\0'));
  return true;
}

// Writes this rank's interior as its hyperslab of a new global dataset `name` in `file`.
Id write_field(const State& s, hid_t file, const std::string& name, const std::string& path) {
  const Slab sl = slab_of(s);
  Id space(H5Screate_simple(sl.rank, sl.dims, nullptr), H5Sclose);
  Id dset(
      H5Dcreate2(file, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
      H5Dclose);
  if (!dset.ok()) fail(path, "create dataset " + name + " in");
  const std::vector<double> dense = s.block();
  Id fspace(H5Dget_space(dset), H5Sclose);
  H5Sselect_hyperslab(fspace, H5S_SELECT_SET, sl.start, nullptr, sl.count, nullptr);
  Id mspace(H5Screate_simple(sl.rank, sl.count, nullptr), H5Sclose);
  const Id dxpl = transfer(*s.comm);
  if (H5Dwrite(dset, H5T_NATIVE_DOUBLE, mspace, fspace, dxpl, dense.data()) < 0)
    fail(path, "write " + name + " to");
  return Id(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
}

void describe_run(const State& s, hid_t dset) {
  const Problem& p = *s.problem;
  attr_int(dset, "step", s.step);
  const double t = s.time;
  attr_double(dset, "time", &t, 1);
  attr_double(dset, "h", p.grid.h.data(), static_cast<hsize_t>(p.grid.dim));
  attr_double(dset, "alpha", &p.alpha, 1);
  attr_double(dset, "dt", &p.dt, 1);
  std::string settings;
  for (const auto& [k, v] : fingerprint(p))
    settings += k + " = " + v + "\n";
  attr_string(dset, "problem", settings);
}

// Writes `data` to `path` with POSIX calls, reporting a short write (full disk, file-size limit).
// `what` names the file in messages ("checkpoint file").
void write_file(const std::string& path, const std::vector<char>& data,
                const std::string& what = "checkpoint file") {
  errno = 0;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail(path, "create " + what);
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int e = errno == 0 ? ENOSPC : errno;
      ::close(fd);
      errno = e;
      fail(path, "write " + what);
    }
    done += static_cast<std::size_t>(w);
  }
  if (::close(fd) != 0) fail(path, "close " + what);
}

// An HDF5 file built in memory (the core driver) by fill(file), as bytes to write with
// write_file; `sealed`: after kSealSize bytes of room for a checkpoint's seal (see sealed.hpp),
// where HDF5 finds it as it finds a file after a user block. fill returns false, or throws, on
// failure.
std::vector<char> hdf5_image(const std::function<bool(hid_t)>& fill, bool sealed = false) {
  const Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fapl_core(fapl, 1 << 20, /*backing_store=*/0);
  Id file(H5Fcreate("calor-image.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl), H5Fclose);
  if (!file.ok() || !fill(file)) throw Error("cannot build an HDF5 file in memory");
  H5Fflush(file, H5F_SCOPE_GLOBAL);
  const ssize_t size = H5Fget_file_image(file, nullptr, 0);
  if (size <= 0) throw Error("cannot build an HDF5 file in memory");
  const std::size_t at = sealed ? kSealSize : 0;
  std::vector<char> image(at + static_cast<std::size_t>(size));
  H5Fget_file_image(file, image.data() + at, static_cast<std::size_t>(size));
  return image;
}

// Makes `path` (an existing file) at least `bytes` longer, so that HDF5's next writes land in
// blocks the file already owns: a full disk, a quota or a file-size limit then fails here, before
// HDF5 writes anything (HDF5 1.10 cannot undo a failed write, and can crash at exit after one).
// HDF5 truncates the file to its real end when it closes it.
void reserve(const std::string& path, index_t bytes, const std::string& what,
             const std::string& shown) {
  const int fd = ::open(path.c_str(), O_RDWR);
  if (fd < 0) fail(path, "open " + what);
  struct stat st {};
  int e = ::fstat(fd, &st) == 0 ? 0 : errno;
  if (e == 0) e = ::posix_fallocate(fd, st.st_size, static_cast<off_t>(bytes));
  ::close(fd);
  errno = e;
  if (e != 0)
    fail(shown, "make room (" + std::to_string(bytes >> 20) + " MiB) for " + what + " in");
}

// Fails early, before HDF5 starts writing `what`, when the disk holding `path` has less than
// `bytes` (plus a margin for metadata) free.
void check_room(const std::string& path, index_t bytes, const char* what = "checkpoint") {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) fail(path, "find the directory of");
  const double room = static_cast<double>(st.f_bavail) * static_cast<double>(st.f_frsize);
  if (room < 1.05 * static_cast<double>(bytes) + (1 << 20)) {
    errno = ENOSPC;
    fail(path, std::string("write ") + what + " (" + std::to_string(bytes >> 20) + " MiB needed, " +
                   std::to_string(static_cast<long long>(room) >> 20) + " MiB free)");
  }
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> fingerprint(const Problem& p) {
  std::vector<std::pair<std::string, std::string>> f;
  auto vec = [&](auto get) {
    std::string s = "[";
    for (int a = 0; a < p.grid.dim; ++a)
      s += (a ? ", " : "") + get(a);
    return s + "]";
  };
  f.emplace_back("dim", std::to_string(p.grid.dim));
  f.emplace_back("n", vec([&](int a) { return std::to_string(p.grid.n[a]); }));
  f.emplace_back("h", vec([&](int a) { return num(p.grid.h[a]); }));
  f.emplace_back("alpha", num(p.alpha));
  f.emplace_back("dt", num(p.dt));
  f.emplace_back("form", p.form == StencilForm::factored ? "factored" : "expanded");
  for (int a = 0; a < p.grid.dim; ++a)
    for (int s = 0; s < 2; ++s)
      f.emplace_back("boundary." + face_name(a, s), describe(p.boundaries.face[a][s]));
  f.emplace_back("sources.volumetric", num(p.sources.volumetric));
  std::string pts;
  for (const PointSource& ps : p.sources.points) {
    pts += "(";
    for (int a = 0; a < p.grid.dim; ++a)
      pts += (a ? "," : "") + std::to_string(ps.at[a]);
    pts += ")*" + num(ps.energy) + (ps.table.empty() ? " " : "(table) ");
  }
  f.emplace_back("sources.points", pts);
  // Only what a problem has, so that checkpoints of problems without it still match.
  if (!p.diffusivity.empty())
    f.emplace_back("diffusivity",
                   describe(p.diffusivity, p.alpha) +
                       (p.mean == FaceMean::harmonic ? ", harmonic means" : ", arithmetic means"));
  if (!p.sources.field.empty()) f.emplace_back("sources.field", describe(p.sources.field, 0.0));
  // Time tables, each where it applies (not the whole problem: steps may change on a restart).
  auto table = [](const TimeTable& t) {
    std::string s;
    for (const auto& [time, value] : t.points)
      s += "(" + num(time) + ", " + num(value) + ")";
    return s;
  };
  for (int a = 0; a < p.grid.dim; ++a)
    for (int s = 0; s < 2; ++s)
      if (!p.boundaries.face[a][s].table.empty())
        f.emplace_back("boundary." + face_name(a, s) + " table",
                       table(p.boundaries.face[a][s].table));
  for (std::size_t i = 0; i < p.sources.points.size(); ++i)
    if (!p.sources.points[i].table.empty())
      f.emplace_back("sources.points[" + std::to_string(i) + "] table",
                     table(p.sources.points[i].table));
  return f;
}

std::uint64_t field_checksum(const State& s) {
  const Box& b = s.box;
  const Grid& g = s.problem->grid;
  std::uint64_t sum = 0;
  for_each_cell(b.grid_in(g), [&](index_t i, index_t j, index_t k) {
    const double v = s.at(i, j, k);
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    const auto global = static_cast<std::uint64_t>(
        (i + b.low[0]) + g.n[0] * ((j + b.low[1]) + g.n[1] * (k + b.low[2])));
    sum += mix(bits ^ mix(global));
  });
  return s.comm->sum(sum);
}

namespace {

constexpr const char* kXdmfHead =
    "<?xml version=\"1.0\" ?>\n<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n"
    "<Xdmf Version=\"3.0\">\n <Domain>\n"
    "  <Grid Name=\"calor\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
constexpr std::string_view kXdmfTail = "  </Grid>\n </Domain>\n</Xdmf>\n";

// One snapshot's entry in the XDMF file: step `step` at `time`, dataset of `h5`.
std::string xdmf_entry(const std::string& h5, const Problem& p, std::int64_t step, double time) {
  // 2D grids are written as one layer of a 3D mesh: ParaView would put a 2DCoRectMesh in the
  // y-z plane. Dimensions and coordinates are listed z first; cell i sits at (i + 1) h.
  std::string dims, origin, spacing, data_dims;
  for (int axis = 2; axis >= 0; --axis) {
    const bool active = axis < p.grid.dim;
    dims += std::to_string(active ? p.grid.n[axis] : 1) + (axis ? " " : "");
    origin += (active ? num(p.grid.h[axis]) : "0") + (axis ? " " : "");
    spacing += (active ? num(p.grid.h[axis]) : "1") + (axis ? " " : "");
  }
  for (int d = 0; d < p.grid.dim; ++d)
    data_dims += (d ? " " : "") + std::to_string(p.grid.n[p.grid.dim - 1 - d]);
  const std::string file_name =
      h5.substr(h5.rfind('/') == std::string::npos ? 0 : h5.rfind('/') + 1);
  char ds[64];
  std::snprintf(ds, sizeof ds, "/snapshots/%010lld", static_cast<long long>(step));
  std::ostringstream x;
  x << "   <Grid Name=\"step " << step << "\" GridType=\"Uniform\">\n"
    << "    <Time Value=\"" << num(time) << "\"/>\n";
  if (p.grid.dim == 1) {
    x << "    <Topology TopologyType=\"Polyvertex\" NumberOfElements=\"" << data_dims << "\"/>\n"
      << "    <Geometry GeometryType=\"X_Y_Z\">\n     <DataItem Format=\"XML\" Dimensions=\""
      << data_dims << " 3\">\n";
    for (index_t i = 0; i < p.grid.n[0]; ++i)
      x << "      " << num(cell_coordinate(p.grid, 0, i)) << " 0 0\n";
    x << "     </DataItem>\n    </Geometry>\n";
  } else {
    x << "    <Topology TopologyType=\"3DCoRectMesh\" Dimensions=\"" << dims << "\"/>\n"
      << "    <Geometry GeometryType=\"ORIGIN_DXDYDZ\">\n"
      << "     <DataItem Format=\"XML\" NumberType=\"Float\" Precision=\"8\" Dimensions=\"3\">"
      << origin << "</DataItem>\n"
      << "     <DataItem Format=\"XML\" NumberType=\"Float\" Precision=\"8\" Dimensions=\"3\">"
      << spacing << "</DataItem>\n    </Geometry>\n";
  }
  x << "    <Attribute Name=\"u\" AttributeType=\"Scalar\" Center=\"Node\">\n"
    << "     <DataItem Format=\"HDF\" NumberType=\"Float\" Precision=\"8\" Dimensions=\""
    << (p.grid.dim == 1 ? data_dims : dims) << "\">" << file_name << ":" << ds << "</DataItem>\n"
    << "    </Attribute>\n   </Grid>\n";
  return x.str();
}

// Adds a snapshot's entry to the XDMF file `xmf`: the first one creates the file whole (all or
// nothing); later ones overwrite the closing tags with the entry and the tags again, so that the
// file's total cost is linear in the number of snapshots (rewriting it whole was quadratic).
void add_xdmf_entry(const std::string& xmf, const std::string& entry, bool first) {
  if (first) {
    write_atomically(xmf, [&](const std::string& tmp) {
      std::ofstream x(tmp, std::ios::trunc);
      x << kXdmfHead << entry << kXdmfTail;
      x.close();
      if (!x) fail(tmp, "write XDMF file");
    });
    return;
  }
  std::fstream x(xmf, std::ios::in | std::ios::out | std::ios::binary);
  x.seekp(-static_cast<std::streamoff>(kXdmfTail.size()), std::ios::end);
  if (!x) fail(xmf, "reopen the XDMF file (was it removed during the run?)");
  x << entry << kXdmfTail;
  x.close();
  if (!x) fail(xmf, "append to the XDMF file");
}

class SnapshotOutput final : public Output {
 public:
  SnapshotOutput(std::string h5, std::string xmf) : h5_(std::move(h5)), xmf_(std::move(xmf)) {}
  void write(const State& s) override;
  [[nodiscard]] std::string describe() const override {
    return "snapshots " + h5_ + " (+ " + xmf_ + ")";
  }
  [[nodiscard]] std::string last_path() const override { return written_ ? h5_ : ""; }

 private:
  std::string prepare(const State& s, const std::string& tmp) const;
  void append(const State& s, const std::string& tmp) const;

  std::string h5_, xmf_;
  bool written_ = false;  // the file exists: later snapshots are added to it
};

// Before a snapshot, on the root: the file is moved aside to `tmp` (or, before the first
// snapshot, created there holding an empty /snapshots group), so that the final name only ever
// holds a closed file, and grown by the snapshot's size (see reserve). On failure the file is
// put back (or removed) and the error returned, for the caller to agree on.
std::string SnapshotOutput::prepare(const State& s, const std::string& tmp) const {
  const index_t bytes = 8 * s.problem->grid.cells() + (1 << 20);  // + room for metadata
  try {
    check_room(tmp, bytes, "snapshot");
    errno = 0;
    if (written_ && std::rename(h5_.c_str(), tmp.c_str()) != 0)
      fail(h5_, "reopen the snapshot file (was it removed during the run?)");
    try {
      if (!written_)
        write_file(tmp, hdf5_image([](hid_t file) {
                     Id g(H5Gcreate2(file, "/snapshots", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                          H5Gclose);
                     return g.ok();
                   }),
                   "snapshot file");
      reserve(tmp, bytes, "the snapshot of step " + std::to_string(s.step), h5_);
    } catch (const Error& e) {
      if (!written_) {
        std::remove(tmp.c_str());
        throw;
      }
      // Untouched by HDF5: back into place.
      if (std::rename(tmp.c_str(), h5_.c_str()) != 0)
        throw Error(std::string(e.what()) + "; the earlier snapshots are intact in '" + tmp +
                    "' (moving it back failed: " + std::strerror(errno) + ")");
      throw Error(std::string(e.what()) + "; the earlier snapshots in it are intact");
    }
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Adds the snapshot to the file at tmp and closes it; throws calor::Error naming the file.
void SnapshotOutput::append(const State& s, const std::string& tmp) const {
  const Id fapl = file_access(*s.comm);
  errno = 0;
  Id file(H5Fopen(tmp.c_str(), H5F_ACC_RDWR, fapl), H5Fclose);
  if (!file.ok()) fail(tmp, "open snapshot file");
  char name[64];
  std::snprintf(name, sizeof name, "/snapshots/%010lld", static_cast<long long>(s.step));
  {
    Id dset = write_field(s, file, name, tmp);
    describe_run(s, dset);
  }
  if (!file.close()) fail(tmp, "finish writing (flush)");
}

// Each snapshot is written to h5.tmp (the file so far moved there first), flushed, and renamed
// back into place: a reader of h5 never sees a half-written file. If the write fails, the first
// snapshot's file is removed; a later one's is left at h5.tmp, named in the message. HDF5 1.10
// cannot undo a failed append (the file may then be damaged), so prepare() checks the disk's
// room first: a full disk then stops the run with the earlier snapshots intact.
void SnapshotOutput::write(const State& s) {
  quiet_hdf5();
  const Comm& comm = *s.comm;
  const std::string tmp = h5_ + ".tmp";
  comm.agree_or_throw(comm.root() ? prepare(s, tmp) : "");
  std::string error;
  try {
    append(s, tmp);
  } catch (const Error& e) {
    error = e.what();
  }
  comm.barrier();
  if (comm.root()) {
    try {
      if (!error.empty()) {
        if (!written_) {
          std::remove(tmp.c_str());
        } else {
          error += "; the file with the earlier snapshots is left at '" + tmp +
                   "' (the failed write may have damaged it: check it with h5dump -H)";
        }
      } else {
        fsync_path(tmp);
        errno = 0;
        if (std::rename(tmp.c_str(), h5_.c_str()) != 0)
          fail(h5_, "rename the snapshot file back into place as");
        fsync_dir(h5_);
        add_xdmf_entry(xmf_, xdmf_entry(h5_, *s.problem, s.step, s.time), !written_);
      }
    } catch (const Error& e) {
      if (error.empty()) error = e.what();
    }
  }
  comm.agree_or_throw(error);
  written_ = true;
}

class CheckpointOutput final : public Output {
 public:
  explicit CheckpointOutput(std::string path) : path_(std::move(path)) {}
  void write(const State& s) override {
    write_checkpoint(s, path_);
    written_ = true;
  }
  [[nodiscard]] std::string describe() const override { return "checkpoints " + path_; }
  [[nodiscard]] std::string last_path() const override { return written_ ? path_ : ""; }

 private:
  std::string path_;
  bool written_ = false;
};

}  // namespace

std::unique_ptr<Output> make_snapshot_output(const std::string& h5, std::string xmf) {
  return std::make_unique<SnapshotOutput>(h5, xmf.empty() ? xdmf_path(h5) : std::move(xmf));
}

std::unique_ptr<Output> make_checkpoint_output(const std::string& path) {
  return std::make_unique<CheckpointOutput>(path);
}

std::string xdmf_path(const std::string& h5) {
  const auto dot = h5.rfind('.');
  const auto slash = h5.rfind('/');
  const bool ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  return (ext ? h5.substr(0, dot) : h5) + ".xmf";
}

std::string io_library() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
#ifdef H5_HAVE_PARALLEL
  const char* kind = "parallel: MPI-IO";
#else
  const char* kind = "serial";
#endif
  return "HDF5 " + std::to_string(major) + "." + std::to_string(minor) + "." +
         std::to_string(release) + " (" + kind + ")";
}

namespace {

void fill_checkpoint(const State& s, hid_t file, const std::string& tmp, std::uint64_t checksum) {
  Id dset = write_field(s, file, "/field", tmp);
  describe_run(s, dset);
  attr_int(dset, "format_version", kCheckpointVersion);
  attr_u64(dset, "checksum", checksum);
  for (const auto& [k, v] : fingerprint(*s.problem))
    attr_string(dset, ("fp:" + k).c_str(), v);
  // All a restart needs, unless thousands of point sources pass HDF5's 64 KiB limit on an
  // attribute: a restart then needs the configuration again.
  const std::string config = problem_toml(*s.problem);
  if (config.size() < 60000) attr_string(dset, "config", config);
}

// The checkpoint at tmp, written collectively by several ranks through MPI-IO into a file that
// the root made (empty) and grew by the field's size first (see reserve).
void write_checkpoint_mpio(const State& s, const std::string& tmp, std::uint64_t checksum) {
  std::string error;
  if (s.comm->root()) try {
      const index_t bytes = 8 * s.problem->grid.cells() + (1 << 20);
      check_room(tmp, bytes);
      write_file(tmp, hdf5_image([](hid_t) { return true; }, /*sealed=*/true));
      reserve(tmp, bytes, "the checkpoint", tmp);
    } catch (const Error& e) {
      error = e.what();
    }
  s.comm->agree_or_throw(error);
  const Id fapl = file_access(*s.comm);
  errno = 0;
  Id file(H5Fopen(tmp.c_str(), H5F_ACC_RDWR, fapl), H5Fclose);
  if (!file.ok()) fail(tmp, "open checkpoint file");
  fill_checkpoint(s, file, tmp, checksum);
  errno = 0;
  if (!file.close()) fail(tmp, "finish writing (flush) checkpoint file");
  s.comm->barrier();
  if (s.comm->root()) try {
      seal_file(tmp);
    } catch (const Error& e) {
      error = e.what();
    }
  s.comm->agree_or_throw(error);
}

}  // namespace

void write_checkpoint(const State& s, const std::string& path) {
  quiet_hdf5();
  const std::string tmp = path + ".tmp";
  const bool root = s.comm->root();
  const std::uint64_t checksum = field_checksum(s);  // collective: before anything can fail
  try {
    // HDF5 1.10 can crash at exit after a write that failed half-way (a full disk), so failures
    // are kept out of HDF5: one process builds the file in memory and writes it with plain POSIX
    // calls; several ranks write through MPI-IO into room reserved first.
    if (s.comm->size() > 1)
      write_checkpoint_mpio(s, tmp, checksum);
    else {
      std::vector<char> image = hdf5_image(
          [&](hid_t file) {
            fill_checkpoint(s, file, tmp, checksum);
            return true;
          },
          /*sealed=*/true);
      seal_image(image);
      write_file(tmp, image);
    }
    s.comm->barrier();
    if (root) {
      fsync_path(tmp);
      // Keep the previous checkpoint, then move the new one into place atomically.
      if (::access(path.c_str(), F_OK) == 0 &&
          std::rename(path.c_str(), (path + ".prev").c_str()) != 0)
        fail(path, "keep the previous checkpoint as .prev for");
      if (std::rename(tmp.c_str(), path.c_str()) != 0) fail(path, "rename the new checkpoint into");
      fsync_dir(path);
    }
    s.comm->barrier();
  } catch (...) {
    if (root) std::remove(tmp.c_str());
    throw;
  }
}

namespace {

// A checkpoint path every reader checks first: readable, and a regular file (a FIFO would block
// the seal's read forever, on whichever rank reads it).
void require_readable_checkpoint(const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0)
    throw Error("cannot read checkpoint '" + path + "': " + std::strerror(errno));
  require_regular_file(path, "checkpoint");
}

}  // namespace

void verify_checkpoint(const std::string& path) {
  require_readable_checkpoint(path);
  check_seal(path);
}

CheckpointInfo read_checkpoint_info(const std::string& path, bool verify_seal) {
  quiet_hdf5();
  require_readable_checkpoint(path);
  // Before HDF5 parses a byte of it: the whole seal, or (when one rank checked the contents
  // for all) the header and the length, which every rank's own copy must match.
  check_seal(path, verify_seal);
  Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok())
    throw Error("checkpoint '" + path +
                "' is not a readable HDF5 file (truncated or corrupted?); try its .prev copy");
  if (H5Lexists(file, "/field", H5P_DEFAULT) <= 0)
    throw Error("'" + path + "' is not a calor checkpoint (no /field dataset)");
  Id dset(H5Dopen2(file, "/field", H5P_DEFAULT), H5Dclose);
  CheckpointInfo info;
  std::int64_t version = 0;
  if (!read_attr_int(dset, "format_version", version))
    throw Error("'" + path + "' is not a calor checkpoint (no format_version)");
  info.version = static_cast<int>(version);
  if (info.version != kCheckpointVersion)
    throw Error("checkpoint '" + path + "' has format version " + std::to_string(info.version) +
                ", this calor reads version " + std::to_string(kCheckpointVersion));
  if (!read_attr_int(dset, "step", info.step) || !read_attr_double(dset, "time", info.time) ||
      !read_attr_u64(dset, "checksum", info.checksum))
    throw Error("checkpoint '" + path + "' lacks step, time or checksum: corrupted");
  std::vector<std::string> names;
  H5Aiterate2(
      dset, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5A_info_t*, void* out) -> herr_t {
        static_cast<std::vector<std::string>*>(out)->emplace_back(name);
        return 0;
      },
      &names);
  read_attr_string(dset, "config", info.config);
  for (const std::string& key : names) {
    if (key.rfind("fp:", 0) != 0) continue;
    std::string v;
    if (read_attr_string(dset, key.c_str(), v)) info.fingerprint.emplace_back(key.substr(3), v);
  }
  return info;
}

CheckpointInfo check_checkpoint(const std::string& path, const Problem& now, bool force,
                                bool verify_seal) {
  CheckpointInfo info = read_checkpoint_info(path, verify_seal);
  // What changed? Every difference is named; the grid must match even with --force.
  std::map<std::string, std::string> had(info.fingerprint.begin(), info.fingerprint.end());
  std::string diffs;
  bool grid_differs = false;
  for (const auto& [k, v] : fingerprint(now)) {
    const auto it = had.find(k);
    const std::string old = it == had.end() ? "(absent)" : it->second;
    if (old != v) {
      diffs += "\n  " + k + ": checkpoint " + old + ", now " + v;
      grid_differs = grid_differs || k == "n" || k == "dim";
    }
  }
  if (!diffs.empty() && (grid_differs || !force))
    throw Error("checkpoint '" + path + "' is of a different problem:" + diffs +
                (grid_differs ? "\nA different grid cannot be restarted."
                              : "\nRestart with the same settings, or pass --force to continue "
                                "with the new ones."));
  return info;
}

Restored read_checkpoint_field(const std::string& path, const State& s,
                               const CheckpointInfo& info) {
  quiet_hdf5();
  const Id fapl = file_access(*s.comm);
  Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl), H5Fclose);
  if (!file.ok()) throw Error("cannot open checkpoint '" + path + "'");
  Id dset(H5Dopen2(file, "/field", H5P_DEFAULT), H5Dclose);
  const Slab sl = slab_of(s);
  Id fspace(H5Dget_space(dset), H5Sclose);
  hsize_t dims[3] = {0, 0, 0};
  if (H5Sget_simple_extent_ndims(fspace) != sl.rank ||
      H5Sget_simple_extent_dims(fspace, dims, nullptr) != sl.rank)
    throw Error("checkpoint '" + path + "': /field has the wrong rank: corrupted");
  for (int d = 0; d < sl.rank; ++d)
    if (dims[d] != sl.dims[d]) throw Error("checkpoint '" + path + "': /field has the wrong shape");
  H5Sselect_hyperslab(fspace, H5S_SELECT_SET, sl.start, nullptr, sl.count, nullptr);
  Id mspace(H5Screate_simple(sl.rank, sl.count, nullptr), H5Sclose);
  Restored out;
  out.step = info.step;
  out.block.resize(static_cast<std::size_t>(s.box.count()));
  const Id dxpl = transfer(*s.comm);
  if (H5Dread(dset, H5T_NATIVE_DOUBLE, mspace, fspace, dxpl, out.block.data()) < 0)
    throw Error("cannot read the field of checkpoint '" + path + "' (truncated?)");
  const std::uint64_t sum =
      field_checksum(State::dense(*s.problem, info.step, s.box, out.block.data(), *s.comm));
  if (sum != info.checksum)
    throw Error("checkpoint '" + path + "' fails its checksum (stored " +
                std::to_string(info.checksum) + ", data gives " + std::to_string(sum) +
                "): the file is corrupted; try its .prev copy");
  return out;
}

Restored read_checkpoint(const std::string& path, const State& now, bool force) {
  return read_checkpoint_field(path, now, check_checkpoint(path, *now.problem, force));
}

namespace {

// "(3, 0)": a shape as NumPy prints it.
std::string shape_text(const hsize_t* dims, int rank) {
  std::string s = "(";
  for (int d = 0; d < rank; ++d)
    s += (d ? ", " : "") + std::to_string(dims[d]);
  return s + (rank == 1 ? ",)" : ")");
}

// What an HDF5 datatype class holds, for messages.
const char* type_class_name(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER:
      return "integers";
    case H5T_FLOAT:
      return "floating-point numbers";
    case H5T_TIME:
      return "times";
    case H5T_STRING:
      return "strings";
    case H5T_BITFIELD:
      return "bit fields";
    case H5T_OPAQUE:
      return "opaque data";
    case H5T_COMPOUND:
      return "compound records";
    case H5T_REFERENCE:
      return "references";
    case H5T_ENUM:
      return "enumerated values";
    case H5T_VLEN:
      return "variable-length sequences";
    case H5T_ARRAY:
      return "arrays per element";
    default:
      return "data of an unknown type";
  }
}

// The number of values of dataset `ds` of `path`, refusing what calor cannot read into memory:
// a rank other than 1..3, an extent of 0, a size in float64 bytes that overflows or exceeds this
// machine's memory. `shape` receives the NumPy-order shape.
std::size_t checked_extent(hid_t space, const std::string& path, const std::string& ds,
                           std::vector<std::int64_t>& shape) {
  const std::string where = "'" + path + "': dataset " + ds;
  const std::string ranks = "; calor reads 1-, 2- and 3-dimensional fields";
  const H5S_class_t kind = H5Sget_simple_extent_type(space);
  if (kind == H5S_NULL) throw Error(where + " holds no values (a null dataspace)" + ranks);
  if (kind == H5S_SCALAR) throw Error(where + " is a single value (rank 0)" + ranks);
  const int rank = H5Sget_simple_extent_ndims(space);
  if (kind != H5S_SIMPLE || rank < 0)
    throw Error(where + " has a dataspace calor cannot read (corrupted?)");
  if (rank < 1 || rank > 3) throw Error(where + " has rank " + std::to_string(rank) + ranks);
  hsize_t dims[3] = {0, 0, 0};
  if (H5Sget_simple_extent_dims(space, dims, nullptr) != rank)
    throw Error(where + " has a dataspace calor cannot read (corrupted?)");
  const std::string shape_s = shape_text(dims, rank);
  std::uint64_t count = 1;
  bool overflow = false;
  for (int d = 0; d < rank; ++d) {
    if (dims[d] == 0)
      throw Error(where + " has shape " + shape_s +
                  ": an extent of 0; calor reads fields with at least one cell along each axis");
    overflow = overflow || __builtin_mul_overflow(count, std::uint64_t{dims[d]}, &count);
  }
  std::uint64_t bytes = 0;
  overflow = overflow || __builtin_mul_overflow(count, std::uint64_t{8}, &bytes) ||
             bytes > static_cast<std::uint64_t>(std::numeric_limits<std::ptrdiff_t>::max());
  if (overflow)
    throw Error(where + " has shape " + shape_s +
                ": its size in float64 bytes overflows 64 bits (a corrupted or hostile file?)");
  const auto memory = static_cast<double>(physical_memory());
  if (memory > 0 && static_cast<double>(bytes) > memory)
    throw Error(where + " has shape " + shape_s + ": " + std::to_string(count) + " values, " +
                std::to_string(bytes) + " bytes as float64 (" +
                memory_size(static_cast<double>(bytes)) + "), more than this machine's memory (" +
                memory_size(memory) + ")");
  shape.assign(dims, dims + rank);
  return static_cast<std::size_t>(count);
}

// read_dataset's work, in the process that calls it.
std::vector<double> read_dataset_here(const std::string& path, const std::string& dataset,
                                      std::vector<std::int64_t>& shape, std::string& name) {
  quiet_hdf5();
  Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.ok()) throw Error("cannot open '" + path + "' as HDF5");
  std::string ds = dataset;
  if (ds.empty()) {
    if (H5Lexists(file, "/field", H5P_DEFAULT) > 0) {
      ds = "/field";
    } else if (H5Lexists(file, "/snapshots", H5P_DEFAULT) > 0) {
      Id g(H5Gopen2(file, "/snapshots", H5P_DEFAULT), H5Gclose);
      H5G_info_t gi{};
      if (!g.ok() || H5Gget_info(g, &gi) < 0)
        throw Error("'" + path + "': /snapshots is not a group of snapshots");
      if (gi.nlinks == 0) throw Error("'" + path + "' has no snapshots");
      char buf[256];
      const ssize_t len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, gi.nlinks - 1, buf,
                                             sizeof buf, H5P_DEFAULT);
      if (len <= 0 || static_cast<std::size_t>(len) >= sizeof buf)
        throw Error("'" + path + "': the last entry of /snapshots has no usable name");
      ds = std::string("/snapshots/") + buf;
    } else {
      throw Error("'" + path + "' holds neither /field nor /snapshots");
    }
  } else if (ds.find('/') == std::string::npos) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "/snapshots/%010lld", std::atoll(ds.c_str()));
    ds = buf;
  }
  if (H5Lexists(file, ds.c_str(), H5P_DEFAULT) <= 0)
    throw Error("'" + path + "' has no dataset " + ds);
  {
    Id obj(H5Oopen(file, ds.c_str(), H5P_DEFAULT), H5Oclose);
    if (!obj.ok()) throw Error("'" + path + "': cannot open " + ds + " (corrupted?)");
    if (H5Iget_type(obj) != H5I_DATASET)
      throw Error("'" + path + "': " + ds + " is not a dataset (a group?)");
  }
  Id dset(H5Dopen2(file, ds.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset.ok()) throw Error("'" + path + "': cannot open dataset " + ds + " (corrupted?)");
  Id type(H5Dget_type(dset), H5Tclose);
  const H5T_class_t cls = type.ok() ? H5Tget_class(type) : H5T_NO_CLASS;
  if (cls != H5T_FLOAT && cls != H5T_INTEGER)
    throw Error("'" + path + "': dataset " + ds + " holds " + type_class_name(cls) +
                "; calor reads floating-point or integer data");
  Id space(H5Dget_space(dset), H5Sclose);
  if (!space.ok()) throw Error("'" + path + "': dataset " + ds + " has no dataspace (corrupted?)");
  std::vector<std::int64_t> dims;
  const std::size_t count = checked_extent(space, path, ds, dims);
  std::vector<double> v;
  try {
    v.resize(count);
  } catch (const std::bad_alloc&) {
    throw Error("'" + path + "': out of memory reading dataset " + ds + " (" +
                memory_size(8.0 * static_cast<double>(count)) + ")");
  }
  if (H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
    throw Error("cannot read " + ds + " from '" + path + "'");
  shape = std::move(dims);
  name = ds;
  return v;
}

// Appends the bytes of `v` to `out`; takes them from `in` at `at`, advancing it.
template <class T>
void put(std::vector<char>& out, const T* v, std::size_t n) {
  const auto* b = reinterpret_cast<const char*>(v);
  out.insert(out.end(), b, b + n * sizeof(T));
}
template <class T>
void take(const std::vector<char>& in, std::size_t& at, T* v, std::size_t n) {
  if (n * sizeof(T) > in.size() - at) throw Error("a reader's result is incomplete");
  std::memcpy(v, in.data() + at, n * sizeof(T));
  at += n * sizeof(T);
}

}  // namespace

// In a child process (see isolated.hpp): HDF5 1.10 crashes on some damaged files. The result
// travels back as the shape's rank, the shape, the name's length, the name and the values.
std::vector<double> read_dataset(const std::string& path, const std::string& dataset,
                                 std::vector<std::int64_t>& shape, std::string* name) {
  require_regular_file(path, "HDF5 file");
  const std::vector<char> bytes = run_isolated(
      [&] {
        std::vector<std::int64_t> sh;
        std::string nm;
        const std::vector<double> v = read_dataset_here(path, dataset, sh, nm);
        std::vector<char> out;
        const std::uint64_t sizes[2] = {sh.size(), nm.size()};
        put(out, sizes, 2);
        put(out, sh.data(), sh.size());
        put(out, nm.data(), nm.size());
        put(out, v.data(), v.size());
        return out;
      },
      "'" + path + "'", "the file is damaged, or is not an HDF5 file that calor can read");
  std::size_t at = 0;
  std::uint64_t sizes[2] = {0, 0};
  take(bytes, at, sizes, 2);
  if (sizes[0] > 3 || sizes[1] > bytes.size()) throw Error("a reader's result is malformed");
  shape.assign(sizes[0], 0);
  take(bytes, at, shape.data(), shape.size());
  std::string nm(sizes[1], '\0');
  take(bytes, at, nm.data(), nm.size());
  std::vector<double> v((bytes.size() - at) / sizeof(double));
  take(bytes, at, v.data(), v.size());
  if (name != nullptr) *name = nm;
  return v;
}

}  // namespace calor
