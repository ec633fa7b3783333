# A local with a bad reference is unknown; the others still evaluate and
# report their own mistakes.
locals {
  grace    = duration_add(local.grcae, "1s") # ERROR: Reference to undeclared local value
  deadline = duration("10 s")                # ERROR: Invalid function argument
}
profile "p" {
  runner = "proccess" # ERROR: Unknown runner
  cancel {
    step "kill" {
      at     = local.grace
      signal = "SIGKILL"
    }
    deadline = local.deadline
  }
}
