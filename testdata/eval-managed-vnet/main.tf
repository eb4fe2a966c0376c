# OK (note only): no vnet_subnet_id, so AKS manages the VNet and its egress.

resource "azurerm_kubernetes_cluster" "aks" {
  name     = "aks-managed"
  location = "westeurope"

  default_node_pool {
    name    = "system"
    vm_size = "Standard_NC6s_v3"
  }
}
