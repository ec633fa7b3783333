profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      at     = env("GRACEFUL_TEST_UNSET") # ERROR: Invalid function argument
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
