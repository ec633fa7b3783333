profile "a" {
  extends = "b"
}

profile "b" {
  extends = "a" # ERROR: Extends cycle
}
