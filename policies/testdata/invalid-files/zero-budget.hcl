profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  budget = "0s" # ERROR: Zero budget
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
