# Values only a plan knows: `fw_ip` and `subnets` have no defaults here.
variable "fw_ip" {
  type = string
}

variable "subnets" {
  type = map(string)
}

resource "azurerm_subnet" "this" {
  for_each             = var.subnets
  name                 = "snet-${each.key}"
  resource_group_name  = "rg"
  virtual_network_name = "vnet-spoke"
  address_prefixes     = [each.value]
}

resource "azurerm_route_table" "rt" {
  name                = "rt-aks"
  location            = "westeurope"
  resource_group_name = "rg"

  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = var.fw_ip
  }
}

resource "azurerm_kubernetes_cluster" "aks" {
  name                = "aks-plan"
  location            = "westeurope"
  resource_group_name = "rg"
  dns_prefix          = "aks"

  default_node_pool {
    name           = "system"
    vm_size        = "Standard_D4s_v5"
    vnet_subnet_id = azurerm_subnet.this["aks"].id
  }

  network_profile {
    network_plugin = "azure"
    outbound_type  = "userDefinedRouting"
  }
}
