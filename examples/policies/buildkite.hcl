# Buildkite agent: the agent's own signal handling and grace periods.
#
# Models the Buildkite agent's job cancellation with its environment
# variables and their semantics:
#   BUILDKITE_CANCEL_GRACE_PERIOD          seconds, default 10: the deadline
#   BUILDKITE_SIGNAL_GRACE_PERIOD_SECONDS  seconds, default -1; a negative
#     value means "cancel grace plus this value" (so 9s by default): when
#     SIGKILL replaces SIGTERM.
# The signal grace must be below the cancel grace, as the agent requires.
# 1st SIGINT/SIGTERM drains, 2nd cancels, 3rd exits; SIGQUIT cancels.

locals {
  cancel_grace = seconds(env("BUILDKITE_CANCEL_GRACE_PERIOD", 10))
  signal_raw   = tonumber(env("BUILDKITE_SIGNAL_GRACE_PERIOD_SECONDS", -1))
  # Negative: relative to the cancel grace (the agent's semantics).
  signal_grace = local.signal_raw < 0 ? duration_add(local.cancel_grace, seconds(local.signal_raw)) : seconds(local.signal_raw)
}

profile "buildkite" {
  description = "Buildkite agent job: SIGTERM, SIGKILL at the signal grace, deadline at the cancel grace"
  runner      = "process"

  on "SIGINT" { actions = ["drain", "cancel", "exit"] }
  on "SIGTERM" { actions = ["drain", "cancel", "exit"] }
  on "SIGQUIT" { actions = ["cancel"] }
  on "SIGHUP" { actions = ["ignore"] }

  check {
    condition     = to_seconds(local.signal_grace) < to_seconds(local.cancel_grace)
    error_message = "BUILDKITE_SIGNAL_GRACE_PERIOD_SECONDS must be below BUILDKITE_CANCEL_GRACE_PERIOD."
  }
  check {
    condition     = to_seconds(local.signal_grace) >= 0
    error_message = "A negative BUILDKITE_SIGNAL_GRACE_PERIOD_SECONDS is subtracted from the cancel grace, which must stay at or above zero."
  }

  cancel {
    step "interrupt" {
      at     = "0s"
      signal = "SIGTERM"
      target = "group"
    }
    step "kill" {
      at     = local.signal_grace
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = local.cancel_grace
  }
}
