# A broken local does not hide the profile's own mistakes, and the
# arguments that use it are not reported again.
locals {
  grace = seconds(env("GRACE", "soon")) # ERROR: Invalid function argument
  kill  = duration_sub(local.grace, "1s")
}
profile "p" {
  on "SIGTERM" { actions = ["cancel", "exitt"] } # ERROR: Unknown action
  cancel {
    step "interrupt" {
      at     = local.intrerupt # ERROR: Reference to undeclared local value
      signal = "SIGTERM"
    }
    step "kill" {
      at     = local.kill
      signal = "SIGKILL"
    }
    deadline = local.grace
  }
}
