variable "prefix" {
  type    = string
  default = "dflt"
}

variable "location" {
  type    = string
  default = "westus"
}

variable "hub_cidr" {
  type    = string
  default = "10.99.0.0/16"
}

variable "from_auto" {
  type    = string
  default = "default"
}

variable "fw_ip" {
  type = string
}
