profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  runner = "kubernetes"
  cancel { # ERROR: Timeline never escalates
    step "interrupt" {
      notify = "interrupt"
    }
    deadline = "30s"
  }
}
