# Kubernetes, drain before cancelling (buildkite/agent-stack-k8s#903).
#
# Since agent v3.110 a pod's SIGTERM cancels the job, so a node
# consolidation that evicts a CI pod kills the job it runs. This profile
# lets the job run on for DRAIN_TIMEOUT (default 10m) after the kubelet's
# SIGTERM, and only then cancels it as the built-in kubernetes profile
# does: interrupt, abandon 50s later, deadline 58s later.
#
# The language has no bounded drain: the "drain" action waits for the job
# without limit, only a further signal turns it into a cancel, and the
# kubelet sends one SIGTERM. So the drain is a cancellation whose first step
# is late: t0 is the SIGTERM and nothing reaches the job before "interrupt"
# at DRAIN_TIMEOUT. A job that finishes in that window ends the run with its
# own status (outcome "cancelled"). The pod's terminationGracePeriodSeconds
# must cover the whole of it, the budget below:
#   graceful plan --for kubernetes --policy kubernetes-drain.hcl

locals {
  drain = duration(env("DRAIN_TIMEOUT", "10m"))
}

profile "kubernetes-drain" {
  extends     = "kubernetes"
  description = "Kubernetes pod coordinator: on SIGTERM let the job run DRAIN_TIMEOUT (10m), then interrupt, abandon 50s later"
  budget      = duration_add(local.drain, "60s")

  # The built-in's triggers are kept: the first SIGTERM starts t0, a
  # second one exits at once.
  cancel {
    step "interrupt" {
      at     = local.drain
      notify = "interrupt"
    }
    step "abandon" {
      at      = duration_add(local.drain, "50s")
      abandon = true
    }
    deadline = duration_add(local.drain, "58s")
  }
}
