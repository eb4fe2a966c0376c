resource "azurerm_public_ip" "fw" {
  name                = "pip-fw-hub"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  allocation_method   = "Static"
  sku                 = "Standard"
}

resource "azurerm_firewall_policy" "hub" {
  name                = "fwpol-hub"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name

  dns {
    proxy_enabled = true
  }
}

resource "azurerm_firewall" "hub" {
  name                = "fw-hub"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  sku_name            = "AZFW_VNet"
  sku_tier            = "Standard"
  firewall_policy_id  = azurerm_firewall_policy.hub.id

  ip_configuration {
    name                 = "configuration"
    subnet_id            = azurerm_subnet.firewall.id
    public_ip_address_id = azurerm_public_ip.fw.id
  }
}

resource "azurerm_firewall_policy_rule_collection_group" "aks" {
  name               = "rcg-aks"
  firewall_policy_id = azurerm_firewall_policy.hub.id
  priority           = 200

  network_rule_collection {
    name     = "aks-network"
    priority = 100
    action   = "Allow"

    rule {
      name                  = "tunnel"
      protocols             = ["UDP", "TCP"]
      source_addresses      = [local.node_prefix]
      destination_addresses = ["AzureCloud.${var.location}"]
      destination_ports     = ["1194", "9000"]
    }

    rule {
      name              = "ntp"
      protocols         = ["UDP"]
      source_addresses  = [local.node_prefix]
      destination_fqdns = ["ntp.ubuntu.com"]
      destination_ports = ["123"]
    }
  }

  application_rule_collection {
    name     = "aks-fqdns"
    priority = 200
    action   = "Allow"

    rule {
      name             = "aks-core"
      source_addresses = [local.node_prefix]
      destination_fqdns = concat(var.allowed_fqdns, [
        "*.hcp.${var.location}.azmk8s.io",
      ])

      protocols {
        type = "Https"
        port = 443
      }
    }
  }
}
