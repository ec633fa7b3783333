profile "p" {
  extends = "process"
  runner  = "kubernetes" # ERROR: Signal step in a kubernetes profile
  cancel {
    step "interrupt" {
      disabled = true
    }
  }
}
