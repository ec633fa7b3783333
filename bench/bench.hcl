# Profiles for bench/run.sh.

# Every SIGTERM is passed to the job's group, as tini does.
profile "forward" {
  runner = "process"
  on "SIGTERM" { actions = ["forward"] }
  on "SIGINT" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      at     = "0s"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "2s"
  }
}

# The first SIGTERM cancels: SIGTERM to the group now, SIGKILL to the tree
# 500ms later.
profile "escalate" {
  runner = "process"
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "interrupt" {
      at     = "0s"
      signal = "SIGTERM"
      target = "group"
    }
    step "kill" {
      at     = "500ms"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "2s"
  }
}

# The same at the default profiles' real grace (SIGKILL 9 s after SIGTERM)
# and at a long one (60 s), for the escalation precision at long idle waits.
profile "escalate9s" {
  extends = "escalate"
  cancel {
    step "kill" {
      at     = "9s"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "10s"
  }
}

profile "escalate60s" {
  extends = "escalate"
  cancel {
    step "kill" {
      at     = "60s"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "61s"
  }
}
