# NOT OK: login.microsoftonline.com is missing. The core rows, Azure Monitor
# and workload identity all need it: it must be reported once, not three times.
resource "azurerm_virtual_network" "hub" {
  name                = "vnet-hub"
  location            = "westeurope"
  resource_group_name = "rg"
  address_space       = ["10.1.0.0/16"]
}

resource "azurerm_subnet" "fw" {
  name                 = "AzureFirewallSubnet"
  resource_group_name  = "rg"
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = ["10.1.0.0/26"]
}

resource "azurerm_subnet" "nodes" {
  name                 = "snet-nodes"
  resource_group_name  = "rg"
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = ["10.1.4.0/22"]
  route_table_id       = azurerm_route_table.nodes.id
}

resource "azurerm_route_table" "nodes" {
  name                = "rt-nodes"
  location            = "westeurope"
  resource_group_name = "rg"

  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.1.0.4"
  }
}

resource "azurerm_firewall_policy" "pol" {
  name                = "fw-pol"
  location            = "westeurope"
  resource_group_name = "rg"
}

resource "azurerm_firewall" "fw" {
  name                = "fw"
  location            = "westeurope"
  resource_group_name = "rg"
  sku_name            = "AZFW_VNet"
  sku_tier            = "Standard"
  firewall_policy_id  = azurerm_firewall_policy.pol.id

  ip_configuration {
    name      = "ipconfig"
    subnet_id = azurerm_subnet.fw.id
  }
}

resource "azurerm_firewall_policy_rule_collection_group" "aks" {
  name               = "aks"
  firewall_policy_id = azurerm_firewall_policy.pol.id
  priority           = 200

  application_rule_collection {
    name     = "aks-fqdns"
    priority = 100
    action   = "Allow"

    rule {
      name             = "images"
      source_addresses = ["10.1.4.0/22"]
      destination_fqdns = [
        "mcr.microsoft.com",
        "*.data.mcr.microsoft.com",
      ]
      protocols {
        type = "Https"
        port = 443
      }
    }
  }
}

resource "azurerm_kubernetes_cluster" "aks" {
  name                      = "aks"
  location                  = "westeurope"
  resource_group_name       = "rg"
  dns_prefix                = "aks"
  workload_identity_enabled = true
  oidc_issuer_enabled       = true

  default_node_pool {
    name           = "system"
    node_count     = 1
    vm_size        = "Standard_D4s_v5"
    vnet_subnet_id = azurerm_subnet.nodes.id
  }

  identity {
    type = "SystemAssigned"
  }

  network_profile {
    network_plugin = "azure"
    outbound_type  = "userDefinedRouting"
  }

  oms_agent {
    log_analytics_workspace_id = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/law"
  }
}
