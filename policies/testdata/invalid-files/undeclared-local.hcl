locals {
  grace = "9s"
  deadline = duration_add(local.grcae, "1s") # ERROR: Reference to undeclared local value
}
