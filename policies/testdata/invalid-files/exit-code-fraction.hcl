profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  exit_codes {
    timeout = 1.5 # ERROR: Invalid exit code
  }
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
