profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel { # ERROR: Timeline never escalates
    step "interrupt" {
      signal = "SIGTERM"
    }
    step "terminate" {
      at     = "5s"
      signal = "SIGTERM"
      target = "tree"
    }
    deadline = "10s"
  }
}
