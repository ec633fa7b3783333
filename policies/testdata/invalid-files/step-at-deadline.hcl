profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      at     = "10s" # ERROR: Step after the deadline
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
