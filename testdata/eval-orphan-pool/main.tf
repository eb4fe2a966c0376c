# OK (AEL008 note): the node pool's cluster comes from a variable, so the
# pool cannot be tied to a cluster and its subnet is not checked.

variable "cluster_id" {
  type = string
}

resource "azurerm_virtual_network" "vnet" {
  name          = "vnet"
  address_space = ["10.6.0.0/16"]
}

resource "azurerm_subnet" "nodes" {
  name                 = "nodes"
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = ["10.6.0.0/22"]
}

resource "azurerm_kubernetes_cluster_node_pool" "user" {
  name                  = "user"
  kubernetes_cluster_id = var.cluster_id
  vm_size               = "Standard_D4s_v5"
  vnet_subnet_id        = azurerm_subnet.nodes.id
}
