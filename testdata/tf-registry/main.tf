# The AKS cluster comes from the registry module; the firewall route uses a
# registry module's output. Neither is fetched: unknown, with a note.
module "aks" {
  source  = "Azure/aks/azurerm"
  version = "9.1.0"

  prefix         = "demo"
  vnet_subnet_id = azurerm_subnet.nodes.id
}

module "hub" {
  source = "git::https://example.com/hub.git?ref=v1"
}

resource "azurerm_subnet" "nodes" {
  name                 = "snet-nodes"
  resource_group_name  = "rg"
  virtual_network_name = "vnet"
  address_prefixes     = ["10.1.0.0/24"]
}

resource "azurerm_route_table" "rt" {
  name                = "rt"
  location            = "westeurope"
  resource_group_name = "rg"

  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = module.hub.firewall_private_ip
  }
}
