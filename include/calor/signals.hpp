#pragma once
/// \file signals.hpp
/// SIGINT, SIGTERM and SIGUSR1 ask a run to stop at the next chunk boundary and save a
/// checkpoint, so that a batch job can be resubmitted with a restart (RunOptions::handle_signals).

namespace calor {

/// Exit status of `calor run` stopped by a signal after saving its state (EX_TEMPFAIL: "try
/// again").
inline constexpr int kExitInterrupted = 75;

/// Installs the handlers (idempotent).
void install_stop_signals();
/// True once a stop signal arrived.
bool stop_requested();

}  // namespace calor
