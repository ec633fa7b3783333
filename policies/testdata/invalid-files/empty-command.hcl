profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "stop" {
      command = [] # ERROR: Empty command
    }
    step "kill" {
      at     = "5s"
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
