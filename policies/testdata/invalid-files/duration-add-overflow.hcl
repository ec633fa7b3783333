profile "p" {
  cancel {
    step "kill" {
      at     = duration_add("2562047h47m16.854775807s", "1s") # ERROR: Invalid function argument
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
