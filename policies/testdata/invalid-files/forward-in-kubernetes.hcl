profile "p" {
  extends = "kubernetes"
  on "SIGUSR1" { actions = ["forward"] } # ERROR: Forward in a kubernetes profile
}
