# with --pod pods/grace-20s.yaml
# The kubelet SIGKILLs the pod at its terminationGracePeriodSeconds (20s),
# so a 30s deadline can never be reached.
profile "k8s" {
  runner = "kubernetes"
  on "SIGTERM" { actions = ["cancel", "exit"] }
  cancel {
    step "interrupt" {
      notify = "interrupt"
    }
    step "abandon" {
      at      = "25s"
      abandon = true
    }
    deadline = "30s" # ERROR: Deadline over budget
  }
}
