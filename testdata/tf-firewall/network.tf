# Hub VNet with inline subnets (azurerm 2.x style), referenced by index and
# by splat, and a spoke subnet whose id is built by string interpolation.
variable "subscription_id" {
  type = string
}

resource "azurerm_virtual_network" "hub" {
  name                = "vnet-hub"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  address_space       = ["10.0.0.0/16"]
  dns_servers         = [azurerm_firewall.classic.ip_configuration[0].private_ip_address]

  subnet {
    name           = "AzureFirewallSubnet"
    address_prefix = "10.0.0.0/26"
  }

  subnet {
    name           = "snet-aks"
    address_prefix = "10.0.4.0/22"
    security_group = azurerm_network_security_group.aks.id
  }
}

resource "azurerm_network_security_group" "aks" {
  name                = "nsg-aks"
  location            = "westeurope"
  resource_group_name = "rg-hub"
}

resource "azurerm_route_table" "aks" {
  name                          = "rt-aks"
  location                      = "westeurope"
  resource_group_name           = "rg-hub"
  disable_bgp_route_propagation = true
}

resource "azurerm_route" "default" {
  name                   = "default"
  resource_group_name    = "rg-hub"
  route_table_name       = azurerm_route_table.aks.name
  address_prefix         = "0.0.0.0/0"
  next_hop_type          = "VirtualAppliance"
  next_hop_in_ip_address = azurerm_firewall.classic.ip_configuration[0].private_ip_address
}

resource "azurerm_route" "policy_fw" {
  name                   = "to-policy-fw"
  resource_group_name    = "rg-hub"
  route_table_name       = "rt-aks"
  address_prefix         = "10.50.0.0/16"
  next_hop_type          = "VirtualAppliance"
  next_hop_in_ip_address = "${azurerm_firewall.policy.ip_configuration.0.private_ip_address}"
}

resource "azurerm_subnet_route_table_association" "aks" {
  subnet_id      = "/subscriptions/${var.subscription_id}/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/${azurerm_virtual_network.hub.name}/subnets/snet-aks"
  route_table_id = azurerm_route_table.aks.id
}

resource "azurerm_kubernetes_cluster" "aks" {
  name                = "aks"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  dns_prefix          = "aks"

  # azurerm 1.x spelling
  agent_pool_profile {
    name           = "pool1"
    vm_size        = "Standard_D2_v3"
    os_type        = "Linux"
    vnet_subnet_id = "${element(azurerm_virtual_network.hub.subnet.*.id, 1)}"
  }

  addon_profile {
    oms_agent {
      enabled = true
    }
    azure_policy {
      enabled = false
    }
  }
}

resource "azurerm_kubernetes_cluster_node_pool" "win" {
  name                  = "win"
  kubernetes_cluster_id = azurerm_kubernetes_cluster.aks.id
  vm_size               = "Standard_D4s_v5"
  os_type               = "Windows"
  vnet_subnet_id        = azurerm_virtual_network.hub.subnet[1].id
}
