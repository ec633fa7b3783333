# Profiles for a pod with terminationGracePeriodSeconds: 300, split the way
# the Buildkite agent's Kubernetes stack splits it (signal grace = grace
# period - 10s): the job gets SIGTERM at once and SIGKILL 285s later, the
# coordinator abandons what is left at 290s and is gone by 300s.
#
#   coordinator: graceful run --policy long-grace.hcl --profile kubernetes-300s --socket ...
#   job:         graceful join --policy long-grace.hcl --profile job-300s --socket ... -- cmd
#
#   graceful validate --budget 300s examples/kubernetes/long-grace.hcl

profile "kubernetes-300s" {
  extends = "kubernetes"
  budget  = "300s"
  cancel {
    step "abandon" {
      at      = "290s"
      abandon = true
    }
    deadline = "300s"
  }
}

# The job container's local timeline. Its SIGKILL and deadline come before
# the coordinator's abandon step, so the job's end is observed and reported.
profile "job-300s" {
  extends = "process"
  cancel {
    step "kill" {
      at     = "285s"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "288s"
  }
}
