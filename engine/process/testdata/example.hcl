profile "example" {
  runner = "process"
  on "SIGTERM" { actions = ["cancel"] }
  cancel {
    step "interrupt" {
      at     = "0s"
      signal = "SIGTERM"
      target = "group"
    }
    step "kill" {
      at     = "2s"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "3s"
  }
  finalize {
    command = ["/bin/sh", "-c", "echo finalize: outcome $GRACEFUL_OUTCOME, status $GRACEFUL_EXIT_STATUS"]
  }
}
