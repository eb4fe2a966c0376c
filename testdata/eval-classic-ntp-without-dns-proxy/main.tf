# NOT OK (AEL005, AEL002): the NTP network rule names an FQDN, but the
# classic firewall has no DNS proxy, so the rule never matches.

resource "azurerm_virtual_network" "hub" {
  name          = "hub"
  address_space = ["10.10.0.0/16"]
}

resource "azurerm_subnet" "nodes" {
  name                 = "aks-nodes"
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = ["10.10.0.0/22"]
}

resource "azurerm_subnet" "fw" {
  name                 = "AzureFirewallSubnet"
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = ["10.10.8.0/26"]
}

resource "azurerm_route_table" "aks" {
  name = "aks-udr"
  route {
    name                   = "to-firewall"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = azurerm_firewall.hub.ip_configuration[0].private_ip_address
  }
}

resource "azurerm_subnet_route_table_association" "nodes" {
  subnet_id      = azurerm_subnet.nodes.id
  route_table_id = azurerm_route_table.aks.id
}

resource "azurerm_firewall" "hub" {
  name     = "fw-hub"
  sku_tier = "Standard"
  ip_configuration {
    name      = "ipconfig"
    subnet_id = azurerm_subnet.fw.id
  }
}

resource "azurerm_firewall_network_rule_collection" "aks" {
  name                = "aks-network"
  azure_firewall_name = azurerm_firewall.hub.name
  priority            = 100
  action              = "Allow"

  rule {
    name                  = "tunnel"
    source_addresses      = ["10.10.0.0/22"]
    destination_addresses = ["AzureCloud.westeurope"]
    destination_ports     = ["1194", "9000", "443"]
    protocols             = ["UDP", "TCP"]
  }

  rule {
    name                  = "ntp"
    source_addresses      = ["10.10.0.0/22"]
    destination_fqdns     = ["ntp.ubuntu.com"]
    destination_ports     = ["123"]
    protocols             = ["UDP"]
  }
}

resource "azurerm_firewall_application_rule_collection" "aks" {
  name                = "aks-fqdn-tag"
  azure_firewall_name = azurerm_firewall.hub.name
  priority            = 200
  action              = "Allow"

  rule {
    name             = "aks"
    source_addresses = ["10.10.0.0/22"]
    fqdn_tags        = ["AzureKubernetesService"]
  }
}

resource "azurerm_kubernetes_cluster" "aks" {
  name     = "aks-tag"
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
