profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      signal = "SIGKILL"
      target = "groop" # ERROR: Unknown target
    }
    deadline = "10s"
  }
}
