profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      at     = "9 seconds" # ERROR: Invalid duration
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
