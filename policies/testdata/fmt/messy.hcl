# comments survive
locals {
grace="9s"
    deadline = duration_add(local.grace,"1s")
}
profile "messy" {
runner="process"
  on "SIGINT" {actions=["drain","cancel","exit"]}
  on "SIGTERM" {
      actions = ["cancel",
        "exit"]
  }
  cancel {
  step "interrupt" {
  signal="SIGTERM"
        target = "group"
  at="0s"
  }
    step "kill" {
      at = local.grace
      signal = "SIGKILL"
      target="tree"
    }
  deadline=local.deadline
  }
}
