profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "wait" { # ERROR: Step does nothing
      at = "1s"
    }
    step "kill" {
      at     = "5s"
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
