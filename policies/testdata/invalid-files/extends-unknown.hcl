profile "mine" {
  extends = "proces" # ERROR: Unknown profile to extend
}
