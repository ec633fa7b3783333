# Locals may refer to each other in any order; functions compose.
locals {
  kill     = duration_min(local.deadline, duration_mul(local.base, 3))
  deadline = duration_add(local.base, local.base, local.base, "1s")
  base     = milliseconds(max(2500, 1000))
}

profile "computed" {
  on "SIGTERM" { actions = ["cancel"] }
  cancel {
    step "interrupt" {
      signal = "SIGTERM"
    }
    step "kill" {
      at     = local.kill
      signal = "SIGKILL"
    }
    deadline = local.deadline
  }
}
