profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      at     = "9s"
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
  exit_codes {
    abandoned = 100
  }
  exit_codes { # ERROR: Duplicate exit_codes block
    timeout = 124
  }
}
