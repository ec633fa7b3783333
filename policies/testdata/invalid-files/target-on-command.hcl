profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "stop" {
      command = ["./stop.sh"]
      target  = "tree" # ERROR: Target without signal
    }
    step "kill" {
      at     = "5s"
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
