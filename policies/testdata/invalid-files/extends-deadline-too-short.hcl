profile "quick" {
  extends = "process"
  cancel {
    deadline = "5s" # ERROR: Step after the deadline
  }
}
