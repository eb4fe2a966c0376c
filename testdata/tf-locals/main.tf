# Locals computed with the functions real configurations use.
variable "env" {
  default = "prod"
}

locals {
  base_cidr = "10.60.0.0/16"
  settings = {
    prod = { nodes = 2, fw = true }
    dev  = { nodes = 1, fw = false }
  }
  current = lookup(local.settings, var.env, local.settings["dev"])
  subnet_names = [for i in range(local.current.nodes) : format("snet-%s-%02d", var.env, i)]
  subnets = {
    for i, n in local.subnet_names : n => cidrsubnet(local.base_cidr, 8, i + 10)
  }
  fw_ip    = cidrhost(cidrsubnet(local.base_cidr, 10, 0), 4)
  egress   = flatten([["mcr.microsoft.com"], local.current.fw ? ["*.data.mcr.microsoft.com"] : []])
  tag_list = join(",", concat(keys(local.settings), [upper(var.env)]))
}

resource "azurerm_subnet" "nodes" {
  for_each             = local.subnets
  name                 = each.key
  virtual_network_name = "vnet-${var.env}"
  address_prefixes     = [each.value]
}

resource "azurerm_route_table" "rt" {
  name = "rt-${local.tag_list}"

  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = local.fw_ip
  }
}

resource "azurerm_firewall_application_rule_collection" "egress" {
  name                = "egress"
  azure_firewall_name = "fw-${var.env}"
  priority            = 100
  action              = "Allow"

  rule {
    name             = "mcr"
    source_addresses = values(local.subnets)
    target_fqdns     = local.egress

    protocol {
      type = "Https"
      port = 443
    }
  }
}
