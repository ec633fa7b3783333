profile "p" {
  on "SIGINT" { actions = [] } # ERROR: No actions
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
