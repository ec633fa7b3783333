profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      signal = "SIGKILL"
    }
    deadline = "0s" # ERROR: Zero deadline
  }
}
