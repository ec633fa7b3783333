# Buildkite agent v4: cancel-signal-timeout and cancel-cleanup-timeout.
#
# Agent v4 (buildkite/agent#3868) replaced v3's cancel-grace-period and
# signal-grace-period-seconds (see buildkite.hcl) with two independent
# durations:
#   BUILDKITE_CANCEL_SIGNAL_TIMEOUT   default 10s: the cancel signal, then
#     SIGKILL this long after it
#   BUILDKITE_CANCEL_CLEANUP_TIMEOUT  default 5s: once the job has stopped
#     or been killed, the time for the agent's own log and artifact upload
# A cancellation takes at most their sum, which is the deadline here.
# BUILDKITE_CANCEL_SIGNAL (default SIGTERM) is the first signal.
# 1st SIGINT/SIGTERM drains, 2nd cancels, 3rd exits; SIGQUIT cancels.

locals {
  signal_timeout  = duration(env("BUILDKITE_CANCEL_SIGNAL_TIMEOUT", "10s"))
  cleanup_timeout = duration(env("BUILDKITE_CANCEL_CLEANUP_TIMEOUT", "5s"))
}

profile "buildkite-v4" {
  description = "Buildkite agent v4 job: SIGTERM, SIGKILL after the cancel signal timeout, upload within the cleanup timeout"
  runner      = "process"

  on "SIGINT" { actions = ["drain", "cancel", "exit"] }
  on "SIGTERM" { actions = ["drain", "cancel", "exit"] }
  on "SIGQUIT" { actions = ["cancel"] }
  on "SIGHUP" { actions = ["ignore"] }

  check {
    condition     = to_seconds(local.cleanup_timeout) > 0
    error_message = "BUILDKITE_CANCEL_CLEANUP_TIMEOUT must be positive: it is the upload's time after the SIGKILL."
  }

  cancel {
    step "interrupt" {
      at     = "0s"
      signal = env("BUILDKITE_CANCEL_SIGNAL", "SIGTERM")
      target = "group"
    }
    step "kill" {
      at     = local.signal_timeout
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = duration_add(local.signal_timeout, local.cleanup_timeout)
  }

  # The cleanup timeout is the upload's share: it starts when the job has
  # stopped, at the SIGKILL at the latest, and ends at the deadline.
  finalize {
    command = ["buildkite-agent", "artifact", "upload", "log/**/*"]
    timeout = "10m"
    reserve = local.cleanup_timeout
  }
}
