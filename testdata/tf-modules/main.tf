# Root module: a hub network from a local module (which nests a subnet
# module), an AKS cluster wired to its outputs, and a registry module whose
# outputs cannot be known.
module "network" {
  source        = "./modules/network"
  name          = "hub"
  address_space = "10.10.0.0/16"
  subnets = {
    aks      = 1
    firewall = 0
  }
}

module "naming" {
  source  = "Azure/naming/azurerm"
  version = "0.4.0"
}

module "outside" {
  source = "../../outside-the-root"
}

resource "azurerm_kubernetes_cluster" "aks" {
  name                = "aks-main"
  location            = module.network.location
  resource_group_name = "rg"
  dns_prefix          = "aks"

  default_node_pool {
    name           = "system"
    vm_size        = "Standard_D4s_v5"
    vnet_subnet_id = module.network.subnet_ids["aks"]
  }

  network_profile {
    network_plugin = "azure"
    outbound_type  = "userDefinedRouting"
  }
}

resource "azurerm_kubernetes_cluster_node_pool" "gpu" {
  name                  = module.naming.kubernetes_node_pool.name
  kubernetes_cluster_id = azurerm_kubernetes_cluster.aks.id
  vm_size               = "Standard_NC6s_v3"
  os_type               = "Linux"
  vnet_subnet_id        = module.naming.subnet_id
}
