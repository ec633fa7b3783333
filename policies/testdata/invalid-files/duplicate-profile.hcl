profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
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

profile "p" { # ERROR: Duplicate profile
  on "SIGTERM" { actions = ["cancel", "exit"] }
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
