# Two independent mistakes in one on block: both are reported.
profile "p" {
  on "SIGTREM" { actions = ["cancle"] } # ERROR: Unknown signal # ERROR: Unknown action
  on "SIGKILL" { actions = ["drian"] }  # ERROR: Uncatchable signal # ERROR: Unknown action
  cancel {
    step "kill" {
      at     = "9s"
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
