profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      at     = "-1s" # ERROR: Negative duration
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
