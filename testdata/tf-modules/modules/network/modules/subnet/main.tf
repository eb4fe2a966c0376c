variable "vnet_name" {
  type = string
}

variable "name" {
  type = string
}

variable "prefix" {
  type = string
}

resource "azurerm_subnet" "this" {
  name                 = "snet-${var.name}"
  resource_group_name  = "rg"
  virtual_network_name = var.vnet_name
  address_prefixes     = [var.prefix]
}

output "id" {
  value = azurerm_subnet.this.id
}
