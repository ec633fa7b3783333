profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      at     = duration_add("5s", "soon") # ERROR: Invalid function argument
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
