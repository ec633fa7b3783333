profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  runner = "kubernetes"
  cancel {
    step "abandon" {
      abandon = false # ERROR: Step does nothing
    }
    deadline = "10s"
  }
}
