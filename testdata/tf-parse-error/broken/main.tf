resource "azurerm_route_table" "rt" {
  name = "rt"

  route {
    name           = "default"
    address_prefix = "0.0.0.0/0"
    next_hop_type  = = "VirtualAppliance"
  }
}
