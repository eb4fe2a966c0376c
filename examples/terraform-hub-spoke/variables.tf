variable "location" {
  type    = string
  default = "westeurope"
}

variable "allowed_fqdns" {
  description = "FQDNs the cluster nodes may reach over HTTPS"
  type        = list(string)
  default = [
    "mcr.microsoft.com",
    "*.data.mcr.microsoft.com",
    "management.azure.com",
    "login.microsoftonline.com",
    "packages.microsoft.com",
  ]
}

locals {
  node_prefix = cidrsubnet("10.0.0.0/16", 8, 4) # 10.0.4.0/24
}
