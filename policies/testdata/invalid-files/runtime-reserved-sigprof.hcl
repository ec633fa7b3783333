profile "p" {
  on "SIGTERM" { actions = ["cancel"] }
  on "SIGPROF" { actions = ["cancel"] } # ERROR: Signal reserved by the Go runtime
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
