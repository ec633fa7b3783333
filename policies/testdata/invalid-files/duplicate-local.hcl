locals {
  a = "1s"
}

locals {
  a = "2s" # ERROR: Duplicate local value
}
