# systemd-like stop: ExecStop runs first, then KillSignal (SIGTERM) reaches
# the whole control group, and after TimeoutStopSec the remaining processes
# get SIGKILL (FinalKillSignal). As with KillMode=control-group, the signals
# reach the whole tree, not just the main process.

locals {
  # TimeoutStopSec; systemd's default is 90s.
  timeout_stop = duration(env("TIMEOUT_STOP_SEC", "90s"))
  exec_stop    = "10s" # how long ExecStop may run before SIGTERM
}

profile "systemd" {
  description = "ExecStop, then SIGTERM to the tree, SIGKILL after TimeoutStopSec"
  runner      = "process"

  on "SIGTERM" { actions = ["cancel", "exit"] }
  on "SIGINT" { actions = ["cancel", "exit"] }
  on "SIGHUP" { actions = ["forward"] }

  cancel {
    step "exec-stop" {
      at      = "0s"
      command = ["/usr/local/bin/app-ctl", "stop"]
      timeout = local.exec_stop
    }
    step "kill-signal" {
      at     = local.exec_stop
      signal = "SIGTERM"
      target = "tree"
    }
    step "final-kill" {
      at     = local.timeout_stop
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = duration_add(local.timeout_stop, "5s")
  }

  exit_codes {
    abandoned = 123
  }
}
