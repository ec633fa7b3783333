profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      at     = secs(5) # ERROR: Call to unknown function
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
