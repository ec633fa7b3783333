# The default profile: the Buildkite agent's signal handling for a job
# running as a local process tree.
profile "process" {
  description = "Local process tree, Buildkite agent defaults: SIGTERM to the group, SIGKILL to the tree at 9s, deadline 10s"
  runner      = "process"

  # 1st SIGINT/SIGTERM lets the job finish, 2nd cancels, 3rd exits now.
  on "SIGINT" { actions = ["drain", "cancel", "exit"] }
  on "SIGTERM" { actions = ["drain", "cancel", "exit"] }
  on "SIGQUIT" { actions = ["cancel"] }
  on "SIGHUP" { actions = ["ignore"] }

  cancel {
    step "interrupt" {
      at     = "0s"
      signal = "SIGTERM"
      target = "group"
    }
    step "kill" {
      at     = "9s"
      signal = "SIGKILL"
      target = "tree"
    }
    deadline = "10s"
  }
}
