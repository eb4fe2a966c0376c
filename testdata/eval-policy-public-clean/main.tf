# OK: a public cluster. The network rule for the API server's address
# (TCP 443 to AzureCloud.westeurope) may also catch FQDN endpoints on 443,
# but every one of them is allowed by an application rule either way.

resource "azurerm_virtual_network" "spoke" {
  name          = "spoke"
  address_space = ["10.0.0.0/16"]
}

resource "azurerm_subnet" "nodes" {
  name                 = "aks-nodes"
  virtual_network_name = azurerm_virtual_network.spoke.name
  address_prefixes     = ["10.0.0.0/22"]
}

resource "azurerm_subnet" "fw" {
  name                 = "AzureFirewallSubnet"
  virtual_network_name = azurerm_virtual_network.spoke.name
  address_prefixes     = ["10.0.8.0/26"]
}

resource "azurerm_route_table" "aks" {
  name = "aks-udr"
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.8.4"
  }
}

resource "azurerm_subnet_route_table_association" "nodes" {
  subnet_id      = azurerm_subnet.nodes.id
  route_table_id = azurerm_route_table.aks.id
}

resource "azurerm_firewall_policy" "pol" {
  name = "fw-pol"
  dns {
    proxy_enabled = true
  }
}

resource "azurerm_firewall" "hub" {
  name               = "fw-hub"
  firewall_policy_id = azurerm_firewall_policy.pol.id
  ip_configuration {
    name      = "ipconfig"
    subnet_id = azurerm_subnet.fw.id
  }
}

resource "azurerm_firewall_policy_rule_collection_group" "aks" {
  name               = "aks"
  firewall_policy_id = azurerm_firewall_policy.pol.id
  priority           = 200

  network_rule_collection {
    name     = "aks-network"
    priority = 100
    action   = "Allow"
    rule {
      name                  = "tunnel-udp"
      protocols             = ["UDP"]
      source_addresses      = ["10.0.0.0/22"]
      destination_addresses = ["AzureCloud.westeurope"]
      destination_ports     = ["1194"]
    }
    rule {
      name                  = "tunnel-tcp"
      protocols             = ["TCP"]
      source_addresses      = ["10.0.0.0/22"]
      destination_addresses = ["AzureCloud.westeurope"]
      destination_ports     = ["9000"]
    }
    rule {
      name                  = "apiserver"
      protocols             = ["TCP"]
      source_addresses      = ["10.0.0.0/22"]
      destination_addresses = ["AzureCloud.westeurope"]
      destination_ports     = ["443"]
    }
    rule {
      name              = "ntp"
      protocols         = ["UDP"]
      source_addresses  = ["10.0.0.0/22"]
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
      source_addresses = ["10.0.0.0/22"]
      destination_fqdns = [
        "*.hcp.westeurope.azmk8s.io",
        "mcr.microsoft.com",
        "*.data.mcr.microsoft.com",
        "management.azure.com",
        "login.microsoftonline.com",
        "packages.microsoft.com",
        "acs-mirror.azureedge.net",
        "mcr-0001.mcr-msedge.net",
        "packages.aks.azure.com",
      ]
      protocols {
        type = "Https"
        port = 443
      }
    }
  }
}

resource "azurerm_kubernetes_cluster" "aks" {
  name                    = "aks-main"
  location                = "westeurope"
  private_cluster_enabled = false

  default_node_pool {
    name           = "system"
    vm_size        = "Standard_D4s_v5"
    vnet_subnet_id = azurerm_subnet.nodes.id
  }

  network_profile {
    network_plugin = "azure"
    outbound_type  = "userDefinedRouting"
  }
}
