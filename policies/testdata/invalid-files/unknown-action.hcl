profile "p" {
  on "SIGINT" { actions = ["drian", "cancel"] } # ERROR: Unknown action
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
