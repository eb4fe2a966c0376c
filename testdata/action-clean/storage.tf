# OK: no cluster, nothing to check; the action must exit 0.
resource "azurerm_storage_account" "logs" {
  name                     = "stlogs001"
  resource_group_name      = "rg-logs"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "LRS"
}
