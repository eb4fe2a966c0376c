resource "azurerm_subnet" "twice" {
  name             = "snet-a"
  name             = "snet-b"
  address_prefixes = ["10.50.0.0/24"]
}
