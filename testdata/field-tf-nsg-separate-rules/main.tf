# NOT OK: a separate rule denies all outbound traffic of the node subnet. The
# NSG's rules are separate `azurerm_network_security_rule` resources, so the
# fix is one more such resource (an inline `security_rule` block would make
# Terraform fight over the rule set).

resource "azurerm_virtual_network" "vnet" {
  name          = "vnet"
  location      = "westeurope"
  address_space = ["10.6.0.0/16"]
}

resource "azurerm_subnet" "nodes" {
  name                 = "nodes"
  resource_group_name  = "rg-net"
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = ["10.6.0.0/22"]
}

resource "azurerm_network_security_group" "nodes" {
  name                = "nodes-nsg"
  location            = "westeurope"
  resource_group_name = "rg-net"
}

resource "azurerm_network_security_rule" "deny_out" {
  name                        = "deny-all-out"
  resource_group_name         = "rg-net"
  network_security_group_name = azurerm_network_security_group.nodes.name
  priority                    = 4000
  direction                   = "Outbound"
  access                      = "Deny"
  protocol                    = "*"
  source_port_range           = "*"
  destination_port_range      = "*"
  source_address_prefix       = "*"
  destination_address_prefix  = "*"
}

resource "azurerm_subnet_network_security_group_association" "nodes" {
  subnet_id                 = azurerm_subnet.nodes.id
  network_security_group_id = azurerm_network_security_group.nodes.id
}

resource "azurerm_kubernetes_cluster" "aks" {
  name     = "aks"
  location = "westeurope"

  default_node_pool {
    name           = "system"
    vm_size        = "Standard_D4s_v5"
    vnet_subnet_id = azurerm_subnet.nodes.id
  }

  network_profile {
    network_plugin = "azure"
  }
}
