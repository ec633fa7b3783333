profile "mine" {
  extends = "process"
  cancel {
    step "kil" { # ERROR: Nothing to disable
      disabled = true
    }
  }
}
