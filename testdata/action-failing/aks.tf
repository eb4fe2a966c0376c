# NOT OK: outbound type userDefinedRouting, but the node subnet has no route
# table, so there is no 0.0.0.0/0 route (AEL007); the action must fail.
resource "azurerm_virtual_network" "spoke" {
  name                = "vnet-spoke"
  resource_group_name = "rg-aks"
  location            = "westeurope"
  address_space       = ["10.10.0.0/16"]
}

resource "azurerm_subnet" "aks" {
  name                 = "snet-aks"
  resource_group_name  = "rg-aks"
  virtual_network_name = azurerm_virtual_network.spoke.name
  address_prefixes     = ["10.10.0.0/22"]
}

resource "azurerm_kubernetes_cluster" "aks" {
  name                = "aks-action-test"
  resource_group_name = "rg-aks"
  location            = "westeurope"
  dns_prefix          = "aksactiontest"

  default_node_pool {
    name           = "system"
    node_count     = 1
    vm_size        = "Standard_D4s_v5"
    vnet_subnet_id = azurerm_subnet.aks.id
  }

  identity {
    type = "SystemAssigned"
  }

  network_profile {
    network_plugin = "azure"
    outbound_type  = "userDefinedRouting"
  }
}
