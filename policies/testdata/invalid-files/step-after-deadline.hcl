profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "interrupt" {
      signal = "SIGTERM"
    }
    step "kill" {
      at     = "12s" # ERROR: Step after the deadline
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
