profile "mine" {
  extends = "process"
  cancel {
    step "kill" {
      disabled = true
      at       = "1s" # ERROR: Argument in a disabled step
    }
  }
}
