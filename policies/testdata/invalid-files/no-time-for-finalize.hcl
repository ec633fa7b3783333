profile "p" {
  on "SIGTERM" { actions = ["cancel", "exit"] }
  finalize {
    command = ["./upload.sh"]
  }
  cancel {
    step "kill" {
      at     = "9.5s" # ERROR: No time left for finalisation
      signal = "SIGKILL"
    }
    deadline = "10s"
  }
}
