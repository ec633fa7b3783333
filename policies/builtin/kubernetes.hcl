# The coordinator of a Kubernetes pod: the kubelet sends one SIGTERM and
# SIGKILLs at terminationGracePeriodSeconds, so the first SIGTERM cancels.
# Signals cannot cross PID namespaces: the job is told to stop over the
# socket and abandoned if it does not.
profile "kubernetes" {
  description = "Kubernetes pod coordinator: first SIGTERM cancels, notify interrupt at 0s, abandon at 50s, deadline 58s"
  runner      = "kubernetes"
  budget      = "60s"

  on "SIGTERM" { actions = ["cancel", "exit"] }
  on "SIGINT" { actions = ["cancel", "exit"] }
  on "SIGQUIT" { actions = ["cancel"] }
  on "SIGHUP" { actions = ["ignore"] }

  cancel {
    step "interrupt" {
      at     = "0s"
      notify = "interrupt"
    }
    step "abandon" {
      at      = "50s"
      abandon = true
    }
    # 2s inside the budget: at its dead-man's switch the coordinator still
    # has time to report and exit before the kubelet's SIGKILL.
    deadline = "58s"
  }
}
