# NOT OK: egress of the node subnet goes to the hub firewall, whose policy
# allows only Azure Resource Manager: mcr.microsoft.com and the other required
# endpoints are denied (AEL001), so the action must fail.
resource "azurerm_virtual_network" "spoke" {
  name          = "vnet-action"
  address_space = ["10.20.0.0/16"]
}

resource "azurerm_subnet" "nodes" {
  name                 = "snet-nodes"
  virtual_network_name = azurerm_virtual_network.spoke.name
  address_prefixes     = ["10.20.0.0/22"]
}

resource "azurerm_subnet" "firewall" {
  name                 = "AzureFirewallSubnet"
  virtual_network_name = azurerm_virtual_network.spoke.name
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

resource "azurerm_subnet_route_table_association" "nodes" {
  subnet_id      = azurerm_subnet.nodes.id
  route_table_id = azurerm_route_table.egress.id
}

resource "azurerm_firewall_policy" "egress" {
  name = "fwpol-action"
}

resource "azurerm_firewall" "hub" {
  name               = "fw-action"
  firewall_policy_id = azurerm_firewall_policy.egress.id
  ip_configuration {
    name      = "ipconfig"
    subnet_id = azurerm_subnet.firewall.id
  }
}

resource "azurerm_firewall_policy_rule_collection_group" "egress" {
  name               = "rcg-action"
  firewall_policy_id = azurerm_firewall_policy.egress.id
  priority           = 300

  application_rule_collection {
    name     = "arm-only"
    priority = 100
    action   = "Allow"
    rule {
      name              = "arm"
      source_addresses  = ["10.20.0.0/22"]
      destination_fqdns = ["management.azure.com"]
      protocols {
        type = "Https"
        port = 443
      }
    }
  }
}

resource "azurerm_kubernetes_cluster" "aks" {
  name     = "aks-action"
  location = "westeurope"

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
