locals {
  grace = "9s"
}
profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "kill" {
      at     = local["grace"] # ERROR: Invalid reference
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
