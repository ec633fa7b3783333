profile "p" {
  on "15" { actions = ["cancel", "exit"] } # ERROR: Unknown signal
  cancel {
    step "kill" {
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
