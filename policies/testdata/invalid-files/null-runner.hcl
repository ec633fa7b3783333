profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  runner = null # ERROR: Null value
  cancel {
    step "interrupt" {
      at     = "0s"
      signal = "SIGTERM"
    }
    step "kill" {
      at     = "9s"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "10s"
  }
}
