profile "p" {
  runner = "kubernetes"
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "interrupt" {
      notify = "interupt" # ERROR: Unknown notification
    }
    step "abandon" {
      at      = "20s"
      abandon = true
    }
    deadline = "30s"
  }
}
