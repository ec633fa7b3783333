locals {
  signal_grace = "12s"
  cancel_grace = "10s"
}

profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  check {
    condition     = to_seconds(local.signal_grace) < to_seconds(local.cancel_grace) # ERROR: Check failed
    error_message = "The signal grace must be below the cancel grace."
  }
  cancel {
    step "interrupt" {
      at     = "0s"
      signal = "SIGTERM"
    }
    step "kill" {
      at     = "9s"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "10s"
  }
}
