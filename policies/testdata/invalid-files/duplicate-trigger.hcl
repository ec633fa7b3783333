profile "p" {
  on "SIGINT" { actions = ["cancel"] }
  on "SIGINT" { actions = ["exit"] } # ERROR: Duplicate trigger
  cancel {
    step "interrupt" {
      at     = "0s"
      signal = "SIGTERM"
    }
    step "kill" {
      at     = "9s"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "10s"
  }
}
