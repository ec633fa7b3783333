profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "stop" {
      command = { program = "stop.sh" } # ERROR: Incorrect attribute value type
    }
    step "kill" {
      at     = "5s"
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
