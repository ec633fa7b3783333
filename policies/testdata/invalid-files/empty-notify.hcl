profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  runner = "kubernetes"
  cancel {
    step "interrupt" {
      notify = "" # ERROR: Empty notification
    }
    step "abandon" {
      at      = "5s"
      abandon = true
    }
    deadline = "10s"
  }
}
