profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "send term" { # ERROR: Invalid step name
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
