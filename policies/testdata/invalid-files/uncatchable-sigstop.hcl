profile "p" {
  on "SIGTERM" { actions = ["cancel"] }
  on "SIGSTOP" { actions = ["exit"] } # ERROR: Uncatchable signal
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
