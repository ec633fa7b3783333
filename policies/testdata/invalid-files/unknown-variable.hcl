profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  runner = var.runner # ERROR: Unknown variable
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
