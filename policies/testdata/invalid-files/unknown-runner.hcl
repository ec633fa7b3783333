profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  runner = "proccess" # ERROR: Unknown runner
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
