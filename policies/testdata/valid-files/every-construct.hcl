# Every block and argument of the language at least once.
locals {
  grace = duration(env("GRACEFUL_TEST_GRACE", "8s"))
}

locals {
  deadline = duration_max(duration_add(local.grace, "4s"), seconds(12))
  half     = duration_mul(local.grace, 0.5)
  name     = lower(format("%s-%d", "WORKER", 1))
}

profile "every-construct" {
  description = "uses ${local.name}"
  runner      = "process"
  budget      = "1m"

  on "SIGINT" { actions = ["drain", "cancel", "exit"] }
  on "SIGTERM" { actions = ["cancel", "exit"] }
  on "SIGQUIT" { actions = ["cancel"] }
  on "SIGHUP" { actions = ["ignore"] }
  on "SIGUSR1" { actions = ["forward"] }

  check {
    condition     = to_seconds(local.grace) < to_seconds(local.deadline)
    error_message = "grace must be below the deadline"
  }
  check {
    condition     = length(local.name) > 0
    error_message = "name must not be empty"
  }

  cancel {
    step "pre-stop" {
      at      = "0s"
      command = ["./pre-stop.sh", local.name]
      timeout = local.half
    }
    step "ask-leader" {
      at     = "0s"
      signal = "SIGUSR2"
      target = "leader"
    }
    step "interrupt" {
      at     = milliseconds(500)
      signal = "SIGTERM"
    }
    step "kill" {
      at     = local.grace
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = local.deadline
  }

  finalize {
    command = ["./report.sh"]
    timeout = "30s"
    reserve = "2s"
  }

  exit_codes {
    abandoned = 100
    timeout   = 124
  }
}
