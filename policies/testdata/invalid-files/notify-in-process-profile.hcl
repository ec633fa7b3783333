profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "interrupt" {
      notify = "interrupt" # ERROR: Notify step without a channel
    }
    step "kill" {
      at     = "9s"
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
