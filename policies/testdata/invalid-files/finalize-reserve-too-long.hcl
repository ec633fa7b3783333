profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  finalize {
    command = ["./upload.sh"]
    reserve = "5s"
  }
  cancel {
    step "kill" {
      at     = "8s" # ERROR: No time left for finalisation
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
