profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  finalize {
    command = [""] # ERROR: Empty command
  }
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
