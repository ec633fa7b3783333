profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  budget = "30s"
  cancel {
    step "kill" {
      at     = "20s"
      signal = "SIGKILL"
    }
    deadline = "40s" # ERROR: Deadline over budget
  }
}
