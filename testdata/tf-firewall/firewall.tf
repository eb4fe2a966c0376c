# A classic firewall with separate rule collections, and a policy firewall.
resource "azurerm_firewall" "classic" {
  name                = "fw-classic"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  dns_servers         = ["168.63.129.16"]

  ip_configuration {
    name                 = "ipconfig"
    subnet_id            = azurerm_virtual_network.hub.subnet.*.id[0]
    public_ip_address_id = "/subscriptions/x/resourceGroups/rg-hub/providers/Microsoft.Network/publicIPAddresses/pip"
  }
}

resource "azurerm_firewall_network_rule_collection" "aks" {
  name                = "aks-network"
  azure_firewall_name = azurerm_firewall.classic.name
  resource_group_name = "rg-hub"
  priority            = 100
  action              = "Allow"

  rule {
    name                  = "ntp"
    source_addresses      = ["10.0.4.0/22"]
    destination_ports     = ["123"]
    destination_addresses = ["*"]
    protocols             = ["UDP"]
  }

  rule {
    name              = "time"
    source_addresses  = ["10.0.4.0/22"]
    destination_ports = ["123"]
    destination_fqdns = ["ntp.ubuntu.com"]
    protocols         = ["UDP"]
  }
}

resource "azurerm_firewall_application_rule_collection" "aks" {
  name                = "aks-app"
  azure_firewall_name = "fw-classic"
  resource_group_name = "rg-hub"
  priority            = 200
  action              = "Allow"

  rule {
    name             = "aks-tag"
    source_addresses = ["10.0.4.0/22"]
    fqdn_tags        = ["AzureKubernetesService"]
  }

  rule {
    name             = "ubuntu"
    source_addresses = ["10.0.4.0/22"]
    target_fqdns     = ["security.ubuntu.com", "azure.archive.ubuntu.com"]

    protocol {
      type = "Http"
      port = "80"
    }
  }
}

resource "azurerm_firewall_nat_rule_collection" "dnat" {
  name                = "dnat"
  azure_firewall_name = "fw-classic"
  resource_group_name = "rg-hub"
  priority            = 100
  action              = "Dnat"

  rule {
    name                  = "web"
    source_addresses      = ["*"]
    destination_ports     = ["443"]
    destination_addresses = ["20.1.2.3"]
    translated_port       = 443
    translated_address    = "10.0.4.100"
    protocols             = ["TCP"]
  }
}

resource "azurerm_firewall_policy" "base" {
  name                = "fwp-base"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  sku                 = "Premium"

  dns {
    proxy_enabled = true
  }
}

resource "azurerm_firewall_policy" "child" {
  name                = "fwp-child"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  base_policy_id      = azurerm_firewall_policy.base.id
}

resource "azurerm_firewall" "policy" {
  name                = "fw-policy"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  sku_name            = "AZFW_VNet"
  sku_tier            = "Premium"
  firewall_policy_id  = azurerm_firewall_policy.child.id
  dns_proxy_enabled   = false

  ip_configuration {
    name      = "ipconfig"
    subnet_id = "/subscriptions/x/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/AzureFirewallSubnet"
  }
}

resource "azurerm_ip_group" "nodes" {
  name                = "ipg-nodes"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  cidrs               = ["10.0.4.0/22"]
}

resource "azurerm_ip_group_cidr" "pods" {
  ip_group_id = azurerm_ip_group.nodes.id
  cidr        = "10.244.0.0/16"
}

resource "azurerm_firewall_policy_rule_collection_group" "aks" {
  name               = "aks"
  firewall_policy_id = azurerm_firewall_policy.child.id
  priority           = 300

  network_rule_collection {
    name     = "net"
    priority = 100
    action   = "Allow"

    rule {
      name                  = "tunnel"
      protocols             = ["UDP", "TCP"]
      source_ip_groups      = [azurerm_ip_group.nodes.id]
      destination_addresses = ["AzureCloud.westeurope"]
      destination_ports     = ["1194", "9000"]
    }
  }

  nat_rule_collection {
    name     = "dnat"
    priority = 50
    action   = "Dnat"

    rule {
      name                = "web"
      protocols           = ["TCP"]
      source_addresses    = ["*"]
      destination_address = "20.1.2.4"
      destination_ports   = ["443"]
      translated_address  = "10.0.4.101"
      translated_port     = "443"
    }
  }

  application_rule_collection {
    name     = "app"
    priority = 200
    action   = "Allow"

    rule {
      name                  = "aks"
      source_addresses      = ["10.0.4.0/22"]
      destination_fqdn_tags = ["AzureKubernetesService"]
      protocols {
        type = "Https"
        port = 443
      }
      protocols {
        type = "Http"
        port = 80
      }
    }
  }
}
