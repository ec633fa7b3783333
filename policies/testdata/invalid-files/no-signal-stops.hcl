profile "p" { # WARNING: No signal stops graceful
  on "SIGHUP" { actions = ["ignore"] }
  cancel {
    step "kill" {
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
