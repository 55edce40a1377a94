#include "calor/signals.hpp"

#include <csignal>
#include <initializer_list>

namespace calor {

namespace {

volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_stop_signal(int) {
  g_stop = 1;
}

}  // namespace

void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int s : {SIGINT, SIGTERM, SIGUSR1})
    sigaction(s, &sa, nullptr);
}

bool stop_requested() {
  return g_stop != 0;
}

}  // namespace calor
