profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "abort" {
      signal = "SIGIOT" # ERROR: Unknown signal
    }
    step "kill" {
      at     = "1s"
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
