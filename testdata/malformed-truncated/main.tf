resource "azurerm_subnet" "cut" {
  name             = "snet-cut"
  address_prefixes = ["10.30.0.0/24"
