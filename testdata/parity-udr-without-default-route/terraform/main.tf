# Parity scenario (Bicep / compiled ARM JSON / Terraform): outboundType
# userDefinedRouting, but the node subnet's route table has no 0.0.0.0/0
# route (only one for the on-premises range).
# NOT OK: AEL007 on the cluster's outbound_type.

resource "azurerm_resource_group" "rg" {
  name     = "rg-udr"
  location = "westeurope"
}

resource "azurerm_route_table" "rt" {
  name                = "rt-nodes"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name

  route {
    name           = "onprem"
    address_prefix = "192.168.0.0/16"
    next_hop_type  = "VirtualNetworkGateway"
  }
}

resource "azurerm_virtual_network" "vnet" {
  name                = "vnet-udr"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = ["10.3.0.0/16"]
}

resource "azurerm_subnet" "nodes" {
  name                 = "snet-nodes"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = ["10.3.0.0/22"]
}

resource "azurerm_subnet_route_table_association" "nodes" {
  subnet_id      = azurerm_subnet.nodes.id
  route_table_id = azurerm_route_table.rt.id
}

resource "azurerm_kubernetes_cluster" "aks" {
  name                = "aks-udr"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  dns_prefix          = "aks-udr"

  identity {
    type = "SystemAssigned"
  }

  default_node_pool {
    name           = "system"
    node_count     = 2
    vm_size        = "Standard_D4s_v5"
    vnet_subnet_id = azurerm_subnet.nodes.id
  }

  network_profile {
    network_plugin = "azure"
    outbound_type  = "userDefinedRouting"
  }
}
