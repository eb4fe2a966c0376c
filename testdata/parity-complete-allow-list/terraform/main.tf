# Parity scenario (Bicep / compiled ARM JSON / Terraform): egress through
# Azure Firewall with a firewall policy that allows every required
# endpoint of the current catalog (network rules and FQDNs).
# OK: no finding.

resource "azurerm_resource_group" "rg" {
  name     = "rg-hub"
  location = "westeurope"
}

resource "azurerm_virtual_network" "hub" {
  name                = "vnet-hub"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  address_space       = ["10.0.0.0/16"]
}

resource "azurerm_subnet" "firewall" {
  name                 = "AzureFirewallSubnet"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = ["10.0.0.0/26"]
}

resource "azurerm_subnet" "nodes" {
  name                 = "snet-aks-nodes"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = ["10.0.4.0/22"]
}

resource "azurerm_route_table" "rt" {
  name                = "rt-aks"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name

  route {
    name                   = "default-to-firewall"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = azurerm_firewall.fw.ip_configuration[0].private_ip_address
  }
}

resource "azurerm_subnet_route_table_association" "nodes" {
  subnet_id      = azurerm_subnet.nodes.id
  route_table_id = azurerm_route_table.rt.id
}

resource "azurerm_firewall_policy" "policy" {
  name                = "fwpol-aks"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  sku                 = "Standard"

  dns {
    proxy_enabled = true
  }
}

resource "azurerm_firewall_policy_rule_collection_group" "rcg" {
  name               = "aks-egress"
  firewall_policy_id = azurerm_firewall_policy.policy.id
  priority           = 200

  network_rule_collection {
    name     = "aks-network"
    priority = 100
    action   = "Allow"

    rule {
      name                  = "tunnel"
      protocols             = ["UDP", "TCP"]
      source_addresses      = ["10.0.4.0/22"]
      destination_addresses = ["AzureCloud.westeurope"]
      destination_ports     = ["1194", "9000"]
    }

    rule {
      name                  = "api-server"
      protocols             = ["TCP"]
      source_addresses      = ["10.0.4.0/22"]
      destination_addresses = ["AzureCloud.westeurope"]
      destination_ports     = ["443"]
    }

    rule {
      name                  = "ntp"
      protocols             = ["UDP"]
      source_addresses      = ["10.0.4.0/22"]
      destination_addresses = ["*"]
      destination_ports     = ["123"]
    }
  }

  application_rule_collection {
    name     = "aks-fqdns"
    priority = 200
    action   = "Allow"

    rule {
      name             = "aks-core"
      source_addresses = ["10.0.4.0/22"]
      destination_fqdns = [
        "*.hcp.westeurope.azmk8s.io",
        "mcr.microsoft.com",
        "*.data.mcr.microsoft.com",
        "mcr-0001.mcr-msedge.net",
        "management.azure.com",
        "login.microsoftonline.com",
        "packages.microsoft.com",
        "acs-mirror.azureedge.net",
        "packages.aks.azure.com",
        "snapshot.ubuntu.com",
      ]

      protocols {
        type = "Https"
        port = 443
      }
    }

    rule {
      name             = "ubuntu-updates"
      source_addresses = ["10.0.4.0/22"]
      destination_fqdns = [
        "security.ubuntu.com",
        "azure.archive.ubuntu.com",
        "changelogs.ubuntu.com",
      ]

      protocols {
        type = "Http"
        port = 80
      }
    }
  }
}

resource "azurerm_public_ip" "pip" {
  name                = "pip-fw"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  allocation_method   = "Static"
  sku                 = "Standard"
}

resource "azurerm_firewall" "fw" {
  name                = "fw-hub"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  sku_name            = "AZFW_VNet"
  sku_tier            = "Standard"
  firewall_policy_id  = azurerm_firewall_policy.policy.id

  ip_configuration {
    name                 = "ipconfig"
    subnet_id            = azurerm_subnet.firewall.id
    public_ip_address_id = azurerm_public_ip.pip.id
  }
}

resource "azurerm_kubernetes_cluster" "aks" {
  name                = "aks-complete"
  location            = azurerm_resource_group.rg.location
  resource_group_name = azurerm_resource_group.rg.name
  dns_prefix          = "aks-complete"

  identity {
    type = "SystemAssigned"
  }

  default_node_pool {
    name           = "system"
    node_count     = 3
    vm_size        = "Standard_D4s_v5"
    vnet_subnet_id = azurerm_subnet.nodes.id
  }

  network_profile {
    network_plugin = "azure"
    outbound_type  = "userDefinedRouting"
  }

  depends_on = [azurerm_firewall_policy_rule_collection_group.rcg]
}
