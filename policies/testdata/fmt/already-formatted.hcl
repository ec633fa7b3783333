# GitHub Actions-like cancellation: when a run is cancelled the runner sends
# SIGINT, waits 7.5s, sends SIGTERM, waits 2.5s more, then SIGKILLs the
# whole process tree. Any SIGINT or SIGTERM to graceful cancels at once; a
# second one exits immediately.

profile "github-actions" {
  description = "SIGINT, 7.5s, SIGTERM, 2.5s, SIGKILL (GitHub Actions runner)"
  runner      = "process"

  on "SIGINT" { actions = ["cancel", "exit"] }
  on "SIGTERM" { actions = ["cancel", "exit"] }
  on "SIGQUIT" { actions = ["cancel"] }

  cancel {
    step "interrupt" {
      at     = "0s"
      signal = "SIGINT"
      target = "group"
    }
    step "terminate" {
      at     = "7.5s"
      signal = "SIGTERM"
      target = "group"
    }
    step "kill" {
      at     = duration_add("7.5s", "2.5s")
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "11s"
  }
}
