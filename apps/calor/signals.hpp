#pragma once
// SIGINT, SIGTERM and SIGUSR1 ask a run to stop at the next chunk boundary, save a checkpoint and
// exit with kExitInterrupted, so that a batch job can be resubmitted with --restart.

namespace calor::app {

/// Exit status of a run stopped by a signal after saving its state (EX_TEMPFAIL: "try again").
inline constexpr int kExitInterrupted = 75;

/// Installs the handlers (idempotent).
void install_stop_signals();
/// True once a stop signal arrived.
bool stop_requested();

}  // namespace calor::app
