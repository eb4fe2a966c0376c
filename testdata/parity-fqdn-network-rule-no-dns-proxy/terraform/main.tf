# Parity scenario (Bicep / compiled ARM JSON / Terraform): a firewall
# policy network rule names an FQDN (`ntp.ubuntu.com`) while DNS proxy is
# off, so the rule never matches.
# NOT OK: AEL005 on the rule's destination_fqdns.

resource "azurerm_resource_group" "rg" {
  name     = "rg-nodns"
  location = "westeurope"
}

resource "azurerm_firewall_policy" "policy" {
  name                = "fwpol-nodns"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  sku                 = "Standard"
}

resource "azurerm_firewall_policy_rule_collection_group" "rcg" {
  name               = "aks-network"
  firewall_policy_id = azurerm_firewall_policy.policy.id
  priority           = 200

  network_rule_collection {
    name     = "ntp"
    priority = 100
    action   = "Allow"

    rule {
      name              = "ntp-fqdn"
      protocols         = ["UDP"]
      source_addresses  = ["10.2.0.0/22"]
      destination_fqdns = ["ntp.ubuntu.com"]
      destination_ports = ["123"]
    }
  }
}

resource "azurerm_firewall" "fw" {
  name                = "fw-nodns"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  sku_name            = "AZFW_VNet"
  sku_tier            = "Standard"
  firewall_policy_id  = azurerm_firewall_policy.policy.id
}
