profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      signal  = "SIGKILL"
      timeout = "1s" # ERROR: Timeout without command
    }
    deadline = "10s"
  }
}
