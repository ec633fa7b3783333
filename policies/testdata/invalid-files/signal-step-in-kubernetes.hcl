profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  runner = "kubernetes"
  cancel {
    step "interrupt" {
      signal = "SIGTERM" # ERROR: Signal step in a kubernetes profile
    }
    step "abandon" {
      at      = "20s"
      abandon = true
    }
    deadline = "30s"
  }
}
