profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      signal = "SIGKILL"
    }
    dedline = "10s" # ERROR: Unsupported argument
  }
}
