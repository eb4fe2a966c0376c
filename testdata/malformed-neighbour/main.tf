# A valid stack linted beside every malformed-* folder: it must still be
# analysed whatever its neighbour holds.
# NOT OK: the firewall allows the AKS FQDN tag's core names but not
# mcr.microsoft.com (AEL001).

resource "azurerm_virtual_network" "net" {
  name          = "vnet-neighbour"
  address_space = ["10.20.0.0/16"]
}

resource "azurerm_subnet" "aks" {
  name                 = "snet-aks"
  virtual_network_name = azurerm_virtual_network.net.name
  address_prefixes     = ["10.20.0.0/22"]
}

resource "azurerm_subnet" "firewall" {
  name                 = "AzureFirewallSubnet"
  virtual_network_name = azurerm_virtual_network.net.name
  address_prefixes     = ["10.20.8.0/26"]
}

resource "azurerm_route_table" "egress" {
  name = "rt-egress"
  route {
    name                   = "to-firewall"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.20.8.4"
  }
}

resource "azurerm_subnet_route_table_association" "aks" {
  subnet_id      = azurerm_subnet.aks.id
  route_table_id = azurerm_route_table.egress.id
}

resource "azurerm_firewall_policy" "egress" {
  name = "fwp-neighbour"
  dns {
    proxy_enabled = true
  }
}

resource "azurerm_firewall" "egress" {
  name               = "fw-neighbour"
  firewall_policy_id = azurerm_firewall_policy.egress.id
  ip_configuration {
    name      = "ip"
    subnet_id = azurerm_subnet.firewall.id
  }
}

resource "azurerm_firewall_policy_rule_collection_group" "egress" {
  name               = "rcg-egress"
  firewall_policy_id = azurerm_firewall_policy.egress.id
  priority           = 300

  network_rule_collection {
    name     = "net"
    priority = 100
    action   = "Allow"
    rule {
      name                  = "tunnel"
      protocols             = ["UDP", "TCP"]
      source_addresses      = ["10.20.0.0/22"]
      destination_addresses = ["AzureCloud.northeurope"]
      destination_ports     = ["1194", "9000"]
    }
  }

  application_rule_collection {
    name     = "app"
    priority = 200
    action   = "Allow"
    rule {
      name              = "core"
      source_addresses  = ["10.20.0.0/22"]
      destination_fqdns = ["*.hcp.northeurope.azmk8s.io", "management.azure.com", "login.microsoftonline.com"]
      protocols {
        type = "Https"
        port = 443
      }
    }
  }
}

resource "azurerm_kubernetes_cluster" "neighbour" {
  name     = "aks-neighbour"
  location = "northeurope"

  default_node_pool {
    name           = "system"
    vm_size        = "Standard_D4s_v5"
    vnet_subnet_id = azurerm_subnet.aks.id
  }

  network_profile {
    network_plugin = "azure"
    outbound_type  = "userDefinedRouting"
  }
}
