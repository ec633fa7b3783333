# A profile named like a built-in replaces it; its extends = "process"
# refers to the built-in (a profile never extends itself).
profile "process" {
  extends = "process"
  cancel {
    step "kill" {
      at     = "4s"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "5s"
  }
}
