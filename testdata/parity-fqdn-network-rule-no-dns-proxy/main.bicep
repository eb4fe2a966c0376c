// Parity scenario (Bicep / compiled ARM JSON / Terraform): a firewall
// policy network rule names an FQDN (`ntp.ubuntu.com`) while DNS proxy is
// off, so the rule never matches.
// NOT OK: AEL005 on the rule's destinationFqdns.

resource policy 'Microsoft.Network/firewallPolicies@2024-05-01' = {
  name: 'fwpol-nodns'
  location: 'westeurope'
  properties: {
    sku: {
      tier: 'Standard'
    }
  }
}

resource rcg 'Microsoft.Network/firewallPolicies/ruleCollectionGroups@2024-05-01' = {
  parent: policy
  name: 'aks-network'
  properties: {
    priority: 200
    ruleCollections: [
      {
        ruleCollectionType: 'FirewallPolicyFilterRuleCollection'
        name: 'ntp'
        priority: 100
        action: {
          type: 'Allow'
        }
        rules: [
          {
            ruleType: 'NetworkRule'
            name: 'ntp-fqdn'
            ipProtocols: [
              'UDP'
            ]
            sourceAddresses: [
              '10.2.0.0/22'
            ]
            destinationFqdns: [
              'ntp.ubuntu.com'
            ]
            destinationPorts: [
              '123'
            ]
          }
        ]
      }
    ]
  }
}

resource fw 'Microsoft.Network/azureFirewalls@2024-05-01' = {
  name: 'fw-nodns'
  location: 'westeurope'
  properties: {
    sku: {
      name: 'AZFW_VNet'
      tier: 'Standard'
    }
    firewallPolicy: {
      id: policy.id
    }
  }
}
