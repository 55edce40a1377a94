// The files a run will write, checked before its first step: no two outputs on one file, no
// directory where a file is meant, no file that calor did not write replaced or renamed without
// overwrite, and missing parent directories created.

#include <hdf5.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "calor/error.hpp"
#include "calor/output.hpp"
#include "output/isolated.hpp"
#include "output/sealed.hpp"

namespace calor {

namespace fs = std::filesystem;

namespace {

// The path as the file system will resolve it, so that "out/../run.h5" and "run.h5" collide.
std::string resolved(const std::string& path) {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? path : p.string();
}

// Whether `path` is an HDF5 file holding /snapshots. HDF5 1.10 crashes on some damaged files,
// so the look happens in a child process (see isolated.hpp); a crash means "no".
bool is_calor_snapshots(const std::string& path) {
  try {
    const std::vector<char> has = run_isolated(
        [&] {
          H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // a file that is not HDF5 is an answer
          const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
          const bool yes = f >= 0 && H5Lexists(f, "/snapshots", H5P_DEFAULT) > 0;
          if (f >= 0) H5Fclose(f);
          return std::vector<char>{yes ? '1' : '0'};
        },
        "'" + path + "'", "");
    return has.size() == 1 && has[0] == '1';
  } catch (const Error&) {
    return false;
  }
}

// Whether `path` starts with `magic`: an .npy or PNG file, which calor may have written.
bool starts_with(const std::string& path, std::string_view magic) {
  std::ifstream in(path, std::ios::binary);
  std::string head(magic.size(), '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  return in && head == magic;
}

bool is_calor_xdmf(const std::string& path) {
  std::ifstream in(path);
  std::string head(512, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return head.find("<Xdmf") != std::string::npos &&
         head.find("<Grid Name=\"calor\"") != std::string::npos;
}

// Whether an existing file at `f.path` is one calor wrote for this kind of output, so that
// replacing (or rotating) it loses nothing the user did not ask calor to make.
bool written_by_calor(const PlannedFile& f) {
  switch (f.kind) {
    case PlannedFile::Kind::snapshots:
      return is_calor_snapshots(f.path);
    case PlannedFile::Kind::checkpoint:
      return has_seal(f.path);
    case PlannedFile::Kind::xdmf:
      return is_calor_xdmf(f.path);
    case PlannedFile::Kind::npy:
      return starts_with(f.path, "\x93NUMPY");
    case PlannedFile::Kind::png:
      return starts_with(f.path, "\x89PNG\r\n\x1a\n");
    case PlannedFile::Kind::partial:
      return false;  // see check_one
    case PlannedFile::Kind::other:
      break;
  }
  return true;  // a temporary file of calor's own
}

void check_one(const PlannedFile& f, bool overwrite, std::vector<std::string>& created) {
  const fs::path p(f.path);
  std::error_code ec;
  if (f.path.empty() || f.path.back() == '/' || fs::is_directory(p, ec))
    throw Error(f.what + " '" + f.path + "' is a directory; name a file in it, e.g. '" +
                (p / "run.h5").lexically_normal().string() + "'");
  const fs::path parent = p.parent_path();
  if (!parent.empty() && !fs::exists(parent, ec)) {
    if (!fs::create_directories(parent, ec) && ec)
      throw Error("cannot create the directory '" + parent.string() + "' for " + f.what + " '" +
                  f.path + "': " + ec.message());
    created.push_back(parent.string());
  }
  if (f.kind == PlannedFile::Kind::partial && fs::exists(p, ec) && !overwrite)
    throw Error("'" + f.path + "' exists: an earlier run stopped while it wrote a snapshot, " +
                "and that file may hold its earlier snapshots. Move it back into place (or " +
                "away) before this run, or pass --overwrite (Python: overwrite=True)");
  if (fs::exists(p, ec) && !overwrite && !written_by_calor(f))
    throw Error(f.what + " '" + f.path + "' exists and is not a file calor wrote for it; " +
                "calor will not replace it: choose another name, or pass --overwrite " +
                "(Python: overwrite=True)");
}

}  // namespace

std::vector<std::string> check_output_paths(const std::vector<PlannedFile>& files, bool overwrite) {
  for (std::size_t i = 0; i < files.size(); ++i)
    for (std::size_t j = i + 1; j < files.size(); ++j)
      if (resolved(files[i].path) == resolved(files[j].path))
        throw Error(files[i].what + " and " + files[j].what + " both name '" + files[i].path +
                    "': give them different files");
  std::vector<std::string> created;
  for (const PlannedFile& f : files)
    check_one(f, overwrite, created);
  return created;
}

}  // namespace calor
