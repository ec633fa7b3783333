# Kubernetes: a pod whose coordinator container runs graceful.
#
# The kubelet sends one SIGTERM and SIGKILLs the whole pod at
# terminationGracePeriodSeconds, so the first SIGTERM cancels at once (no
# drain). Signals cannot cross PID namespaces: the job containers are told
# to stop over the coordinator's socket ("interrupt") and are abandoned if
# they do not; finalisation (log upload) must fit before the kubelet's kill.
# Check against a manifest with: graceful validate --pod pod.yaml kubernetes.hcl

profile "kubernetes-ci" {
  description = "CI job pod with terminationGracePeriodSeconds: 120 and a log upload"
  runner      = "kubernetes"
  budget      = "120s"

  on "SIGTERM" { actions = ["cancel", "exit"] }
  on "SIGINT" { actions = ["cancel", "exit"] }
  on "SIGHUP" { actions = ["ignore"] }

  cancel {
    step "interrupt" {
      at     = "0s"
      notify = "interrupt"
    }
    step "abandon" {
      at      = "90s"
      abandon = true
    }
    deadline = "115s"
  }

  finalize {
    command = ["/graceful/upload-logs.sh"]
    timeout = "30s"
    reserve = "20s"
  }
}

# The built-in kubernetes profile, for a pod that keeps the default
# terminationGracePeriodSeconds of 30s.
profile "kubernetes-30s" {
  extends     = "kubernetes"
  description = "built-in kubernetes profile fitted to the default 30s grace period: abandon at 25s"
  budget      = "30s"

  cancel {
    step "abandon" {
      at      = "25s"
      abandon = true
    }
    deadline = "30s"
  }
}
