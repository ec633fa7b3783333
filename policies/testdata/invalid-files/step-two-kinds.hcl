profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      signal = "SIGKILL"
      notify = "interrupt" # ERROR: Step does more than one thing
    }
    deadline = "10s"
  }
}
