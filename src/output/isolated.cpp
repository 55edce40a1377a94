#include "output/isolated.hpp"

#include <sys/stat.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>

#include "calor/error.hpp"

namespace calor {

namespace {

// Writes all of `data` to `fd`; false on failure (the reader went away).
bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t w = ::write(fd, data, size);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    size -= static_cast<std::size_t>(w);
  }
  return true;
}

// The child: runs work and sends '0' + its bytes, or '1' + the error message; never returns.
[[noreturn]] void child(int fd, const std::function<std::vector<char>()>& work) {
  std::vector<char> out;
  try {
    out = work();
    out.insert(out.begin(), '0');
  } catch (const std::exception& e) {
    const std::string msg = e.what();
    out.assign(1, '1');
    out.insert(out.end(), msg.begin(), msg.end());
  } catch (...) {
    out.assign(1, '1');
  }
  const bool sent = write_all(fd, out.data(), out.size());
  ::close(fd);
  ::_exit(sent ? 0 : 1);  // no atexit handlers: they belong to the parent (HDF5, MPI)
}

}  // namespace

std::vector<char> run_isolated(const std::function<std::vector<char>()>& work,
                               const std::string& what, const std::string& hint) {
  int fds[2];
  // O_CLOEXEC: a process another thread starts meanwhile does not hold the pipe open.
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw Error("cannot read " + what + ": pipe: " + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw Error("cannot read " + what + ": fork: " + std::strerror(e));
  }
  if (pid == 0) {
    ::close(fds[0]);
    child(fds[1], work);
  }
  ::close(fds[1]);
  std::vector<char> in;
  char buf[1 << 16];
  for (;;) {
    const ssize_t r = ::read(fds[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    in.insert(in.end(), buf, buf + r);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
    throw Error("the reader of " + what + " was killed (out of memory?): the file may be " +
                "larger than this machine can read");
  if (WIFSIGNALED(status))
    throw Error(what + " crashed the reader (" + strsignal(WTERMSIG(status)) + "): " + hint);
  if (in.empty() || (WIFEXITED(status) && WEXITSTATUS(status) != 0))
    throw Error("cannot read " + what + ": the reading process ended without a result");
  if (in[0] != '0') throw Error(std::string(in.begin() + 1, in.end()));
  in.erase(in.begin());
  return in;
}

void require_regular_file(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;  // missing: the reader's own message says so
  if (!S_ISREG(st.st_mode))
    throw Error("cannot read " + what + " '" + path + "': " +
                (S_ISDIR(st.st_mode) ? "it is a directory"
                                     : "it is not a regular file (a FIFO, a socket or a device)") +
                "; give the path of a file");
}

}  // namespace calor
