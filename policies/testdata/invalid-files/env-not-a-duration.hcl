profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      at     = env("GRACEFUL_TEST_UNSET", "nine") # ERROR: Invalid duration
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
