# NSG rules as separate resources generated from a map, and associations
# through for_each over a map of subnets.
locals {
  subnets = {
    nodes = "10.20.1.0/24"
    pods  = "10.20.2.0/24"
  }

  rules = {
    allow-https = { priority = 100, port = "443", dest = "AzureCloud" }
    allow-ntp   = { priority = 110, port = "123", dest = "*", protocol = "Udp" }
    deny-all    = { priority = 4000, port = "*", dest = "*", access = "Deny" }
  }
}

resource "azurerm_virtual_network" "spoke" {
  name                = "vnet-spoke"
  location            = "westeurope"
  resource_group_name = "rg"
  address_space       = ["10.20.0.0/16"]
}

resource "azurerm_subnet" "this" {
  for_each             = local.subnets
  name                 = "snet-${each.key}"
  resource_group_name  = "rg"
  virtual_network_name = azurerm_virtual_network.spoke.name
  address_prefixes     = [each.value]
}

resource "azurerm_network_security_group" "nodes" {
  name                = "nsg-nodes"
  location            = "westeurope"
  resource_group_name = "rg"
}

resource "azurerm_network_security_rule" "egress" {
  for_each                    = local.rules
  name                        = each.key
  priority                    = each.value.priority
  direction                   = "Outbound"
  access                      = lookup(each.value, "access", "Allow")
  protocol                    = try(each.value.protocol, "Tcp")
  source_port_range           = "*"
  destination_port_range      = each.value.port
  source_address_prefix       = "VirtualNetwork"
  destination_address_prefix  = each.value.dest
  resource_group_name         = "rg"
  network_security_group_name = azurerm_network_security_group.nodes.name
}

resource "azurerm_subnet_network_security_group_association" "this" {
  for_each                  = azurerm_subnet.this
  subnet_id                 = each.value.id
  network_security_group_id = azurerm_network_security_group.nodes.id
}

resource "azurerm_route_table" "rt" {
  count               = 2
  name                = "rt-${count.index}"
  location            = "westeurope"
  resource_group_name = "rg"
}

resource "azurerm_subnet_route_table_association" "nodes" {
  subnet_id      = azurerm_subnet.this["nodes"].id
  route_table_id = azurerm_route_table.rt[1].id
}
