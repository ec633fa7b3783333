# A CI job with finalisation: after the job stops (on its own or by
# cancellation) an upload script runs with the outcome in its environment
# (GRACEFUL_OUTCOME, GRACEFUL_EXIT_STATUS, ...). The timeline escalates
# early enough to leave the script its reserve before the deadline.
# It extends the built-in process profile and overrides its timeline.

locals {
  deadline = "30s"
  reserve  = "10s"
}

profile "ci-with-upload" {
  extends     = "process"
  description = "process defaults, SIGKILL at 15s, 10s reserved for the log upload, deadline 30s"

  cancel {
    # Replaces the built-in's "kill" step (same name); "interrupt" is kept.
    step "kill" {
      at     = duration_sub(local.deadline, duration_add(local.reserve, "5s"))
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = local.deadline
  }

  finalize {
    command = ["sh", "-c", "./ci/upload-logs.sh --outcome \"$GRACEFUL_OUTCOME\" --status \"$GRACEFUL_EXIT_STATUS\""]
    timeout = "2m"
    reserve = local.reserve
  }

  exit_codes {
    abandoned = 123
    timeout   = -1 # keep the job's own status after --timeout
  }
}
