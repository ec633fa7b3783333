# Each step signals the whole tree: in sweep mode a walk of /proc over a
# tree that never holds still (TestRunChurningTreeKeepsTheTimeline,
# bench/churn.sh).
profile "test" {
  runner = "process"
  cancel {
    step "interrupt" {
      at     = "0s"
      signal = "SIGTERM"
      target = "tree"
    }
    step "kill" {
      at     = "1s"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "2s"
  }
}
