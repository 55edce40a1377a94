#pragma once
// Files written all or nothing: to a temporary name in the same directory, flushed to disk, then
// renamed into place, so that a full disk or a crash never leaves a truncated file under the
// name the user asked for.

#include <functional>
#include <string>

namespace calor {

/// Calls write(tmp) to write the whole file to tmp = path + ".tmp", fsyncs it, renames it to
/// `path` and fsyncs the directory. On any failure tmp is removed and `path` is left as it was;
/// throws calor::Error naming the file.
void write_atomically(const std::string& path,
                      const std::function<void(const std::string&)>& write);

/// fsync of an existing file; throws calor::Error naming it.
void fsync_path(const std::string& path);
/// fsync of the directory holding `path`, so that a rename into it is durable (best effort).
void fsync_dir(const std::string& path);

}  // namespace calor
