profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel { # ERROR: Missing deadline
    step "kill" {
      at     = "9s"
      signal = "SIGKILL"
    }
  }
}
