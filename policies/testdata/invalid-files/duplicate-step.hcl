profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      signal = "SIGTERM"
    }
    step "kill" { # ERROR: Duplicate step
      at     = "5s"
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
