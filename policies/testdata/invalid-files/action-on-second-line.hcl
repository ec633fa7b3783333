profile "p" {
  on "SIGINT" {
    actions = [
      "drain",
      "cancle", # ERROR: Unknown action
    ]
  }
  cancel {
    step "interrupt" {
      at     = "0s"
      signal = "SIGTERM"
    }
    step "kill" {
      at     = "9s"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "10s"
  }
}
