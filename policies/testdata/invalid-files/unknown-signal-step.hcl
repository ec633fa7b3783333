profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      at     = "9s"
      signal = "SIGKIL" # ERROR: Unknown signal
    }
    deadline = "10s"
  }
}
