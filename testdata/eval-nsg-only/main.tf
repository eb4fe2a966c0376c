# NOT OK (AEL001): no cluster, only the NSG of an AKS node subnet; it
# denies outbound 443 to the Internet.
# OK: the second NSG allows what nodes need.

resource "azurerm_network_security_group" "nodes" {
  name = "nsg-aks-nodes"

  security_rule {
    name                       = "deny-https-out"
    priority                   = 300
    direction                  = "Outbound"
    access                     = "Deny"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "443"
    source_address_prefix      = "*"
    destination_address_prefix = "Internet"
  }
}

resource "azurerm_network_security_group" "open" {
  name = "nsg-aks-open"

  security_rule {
    name                       = "deny-ssh-out"
    priority                   = 300
    direction                  = "Outbound"
    access                     = "Deny"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "22"
    source_address_prefix      = "*"
    destination_address_prefix = "Internet"
  }
}
