resource "azurerm_subnet" "nodes" {
  name                 = "snet-nodes"
  resource_group_name  = "rg"
  virtual_network_name = "vnet"
  address_prefixes     = ["10.1.0.0/24"]
}
