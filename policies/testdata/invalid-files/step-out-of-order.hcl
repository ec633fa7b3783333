profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      at     = "9s"
      signal = "SIGKILL"
    }
    step "interrupt" {
      at     = "1s" # ERROR: Step out of order
      signal = "SIGTERM"
    }
    deadline = "10s"
  }
}
