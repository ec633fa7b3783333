# A three-level extends chain: base -> middle -> leaf, with a step replaced,
# a step removed, a step added, a trigger overridden and finalize inherited.
profile "base" {
  description = "base"
  runner      = "process"

  on "SIGINT" { actions = ["drain", "cancel", "exit"] }
  on "SIGTERM" { actions = ["drain", "cancel", "exit"] }

  cancel {
    step "interrupt" {
      signal = "SIGTERM"
    }
    step "nudge" {
      at     = "2s"
      signal = "SIGINT"
      target = "leader"
    }
    step "kill" {
      at     = "9s"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "10s"
  }

  finalize {
    command = ["./report.sh"]
    timeout = "1m"
  }
}

profile "middle" {
  extends = "base"
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "nudge" {
      disabled = true
    }
    step "stop" {
      at      = "1s"
      command = ["./stop.sh", "--now"]
      timeout = "3s"
    }
  }
}

profile "leaf" {
  extends = "middle"
  cancel {
    step "kill" {
      at     = "15s"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "20s"
  }
  exit_codes {
    abandoned = 99
  }
}
