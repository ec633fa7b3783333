# graceful as a container's entrypoint in tini's place: docker stop and the
# kubelet send exactly one SIGTERM, so the first SIGTERM (or SIGINT) cancels
# at once. Other signals are forwarded to the job, as tini does.
profile "container" {
  description = "Container entrypoint (tini's place): first SIGTERM/SIGINT cancels, SIGKILL at 9s, deadline 10s"
  runner      = "container"

  on "SIGTERM" { actions = ["cancel", "exit"] }
  on "SIGINT" { actions = ["cancel", "exit"] }
  on "SIGQUIT" { actions = ["cancel"] }
  on "SIGHUP" { actions = ["forward"] }
  on "SIGUSR1" { actions = ["forward"] }
  on "SIGUSR2" { actions = ["forward"] }
  on "SIGWINCH" { actions = ["forward"] }

  cancel {
    step "interrupt" {
      at     = "0s"
      signal = "SIGTERM"
      target = "group"
    }
    step "kill" {
      at     = "9s"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "10s"
  }
}
