resource "azurerm_subnet" "latin1" {
  name = "café"
}
