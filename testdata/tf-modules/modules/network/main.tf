variable "name" {
  type = string
}

variable "address_space" {
  type = string
}

variable "subnets" {
  type = map(number)
}

variable "location" {
  type    = string
  default = "northeurope"
}

resource "azurerm_virtual_network" "this" {
  name                = "vnet-${var.name}"
  location            = var.location
  resource_group_name = "rg"
  address_space       = [var.address_space]
}

module "subnet" {
  source   = "./modules/subnet"
  for_each = var.subnets

  vnet_name = azurerm_virtual_network.this.name
  name      = each.key
  prefix    = cidrsubnet(var.address_space, 8, each.value)
}

output "subnet_ids" {
  value = { for k, m in module.subnet : k => m.id }
}

output "location" {
  value = azurerm_virtual_network.this.location
}
