# NOT OK (AEL003): the node subnet's NSG denies the whole VNet outbound; two clusters share the subnet.

resource "azurerm_virtual_network" "vnet" {
  name          = "vnet"
  address_space = ["10.3.0.0/16"]
}

resource "azurerm_subnet" "nodes" {
  name                 = "nodes"
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = ["10.3.0.0/22"]
}

resource "azurerm_subnet" "fw" {
  name                 = "AzureFirewallSubnet"
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = ["10.3.8.0/26"]
}

resource "azurerm_network_security_group" "nodes" {
  name = "nsg-nodes"

  security_rule {
    name                       = "deny-vnet"
    priority                   = 100
    direction                  = "Outbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "*"
    destination_address_prefix = "10.3.0.0/16"
  }
}

resource "azurerm_subnet_network_security_group_association" "nodes" {
  subnet_id                 = azurerm_subnet.nodes.id
  network_security_group_id = azurerm_network_security_group.nodes.id
}

resource "azurerm_subnet" "bastion" {
  name                 = "AzureBastionSubnet"
  virtual_network_name = azurerm_virtual_network.vnet.name
  address_prefixes     = ["10.3.12.0/26"]
}

resource "azurerm_route_table" "aks" {
  name = "aks-udr"
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.3.8.4"
  }
}

resource "azurerm_subnet_route_table_association" "nodes" {
  subnet_id      = azurerm_subnet.nodes.id
  route_table_id = azurerm_route_table.aks.id
}

resource "azurerm_firewall_policy" "pol" {
  name = "fw-pol"
}

resource "azurerm_firewall" "hub" {
  name               = "fw"
  firewall_policy_id = azurerm_firewall_policy.pol.id
  ip_configuration {
    name      = "ipconfig"
    subnet_id = azurerm_subnet.fw.id
  }
}

resource "azurerm_firewall_policy_rule_collection_group" "aks" {
  name               = "aks"
  firewall_policy_id = azurerm_firewall_policy.pol.id
  priority           = 100

  network_rule_collection {
    name     = "net"
    priority = 100
    action   = "Allow"
    rule {
      name                  = "network"
      protocols             = ["UDP", "TCP"]
      source_addresses      = ["10.3.0.0/22"]
      destination_addresses = ["AzureCloud.westeurope"]
      destination_ports     = ["1194", "9000"]
    }
    rule {
      name                  = "ntp-dns"
      protocols             = ["UDP"]
      source_addresses      = ["10.3.0.0/22"]
      destination_addresses = ["*"]
      destination_ports     = ["123", "53"]
    }
  }

  application_rule_collection {
    name     = "app"
    priority = 200
    action   = "Allow"
    rule {
      name                  = "aks"
      source_addresses      = ["10.3.0.0/22"]
      destination_fqdn_tags = ["AzureKubernetesService"]
      protocols {
        type = "Https"
        port = 443
      }
    }
  }
}

resource "azurerm_kubernetes_cluster" "aks" {
  name                    = "aks"
  location                = "westeurope"
  private_cluster_enabled = true

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

# A second cluster on the same node subnet: the NSG rule is reported once,
# for the first cluster it cuts.
resource "azurerm_kubernetes_cluster" "aks2" {
  name                    = "aks2"
  location                = "westeurope"
  private_cluster_enabled = true

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
