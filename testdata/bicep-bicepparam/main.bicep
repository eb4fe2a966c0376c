// One template, two parameter files: analysed once per file. The firewall
// policy is the same in both and is kept once.

@allowed([
  'dev'
  'prod'
])
param env string
param nodeCidr string

resource policy 'Microsoft.Network/firewallPolicies@2024-05-01' = {
  name: 'policy-shared'
  location: 'westeurope'
}

resource rcg 'Microsoft.Network/firewallPolicies/ruleCollectionGroups@2024-05-01' = {
  parent: policy
  name: 'aks-${env}'
  properties: {
    priority: 200
    ruleCollections: [
      {
        ruleCollectionType: 'FirewallPolicyFilterRuleCollection'
        name: 'net'
        priority: 100
        action: {
          type: 'Allow'
        }
        rules: [
          {
            ruleType: 'NetworkRule'
            name: 'ntp'
            ipProtocols: [
              'UDP'
            ]
            sourceAddresses: [
              nodeCidr
            ]
            destinationAddresses: [
              '*'
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
