# A step that does two things still has its offset checked.
profile "p" {
  on "SIGTERM" { actions = ["cancel"] }
  cancel {
    step "stop" {
      at      = "-1s" # ERROR: Negative duration
      signal  = "SIGTERM"
      command = ["stop"] # ERROR: Step does more than one thing
    }
    step "wait" { # ERROR: Step does nothing
      at = 5 # ERROR: Invalid duration
    }
    step "kill" {
      at     = "9s"
      signal = "SIGKIL" # ERROR: Unknown signal
      target = "tre"    # ERROR: Unknown target
    }
    deadline = "10" # ERROR: Invalid duration
  }
}
