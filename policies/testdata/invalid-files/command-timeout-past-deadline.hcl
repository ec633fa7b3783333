profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "stop" {
      command = ["./stop.sh"]
      timeout = "30s" # WARNING: Command timeout past the deadline
    }
    step "kill" {
      at     = "5s"
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
