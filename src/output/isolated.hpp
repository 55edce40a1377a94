#pragma once
// Running a file parser that may crash on a damaged file in a child process of its own. HDF5
// 1.10 crashes (SIGSEGV inside the library) on some damaged files, which no check before opening
// can rule out for a file that calor did not seal (see sealed.hpp): a snapshot file, or any HDF5
// file a user names. The child reads, sends the result back through a pipe and exits; if it dies,
// the caller gets a calor::Error instead of a crash.

#include <functional>
#include <string>
#include <vector>

namespace calor {

/// Runs work() in a child process and returns the bytes it returned. A calor::Error (or other
/// exception) thrown by work is thrown again here with its message; a child that dies of a
/// signal throws calor::Error("<what> crashed the reader (<signal>): " + `hint`).
std::vector<char> run_isolated(const std::function<std::vector<char>()>& work,
                               const std::string& what, const std::string& hint);

/// Throws calor::Error if `path` names something other than a regular file (following links): a
/// FIFO or a device would block a reader forever, or feed it without end. A missing path passes
/// (the reader that follows names it in its own words). `what` names the file in the message
/// ("checkpoint", ".npy file").
void require_regular_file(const std::string& path, const std::string& what);

}  // namespace calor
