// Valid Bicep that tree-sitter-bicep 1.1 reads wrongly on its own: strings
// that start with `//` or `/*`, `if (` with a space in a loop filter, the
// spread operator. OK: no parse error, every rule is read.

param fqdns array = [
  'mcr.microsoft.com'
  '*.data.mcr.microsoft.com'
]

var comment = '/* not a comment */'
var proto = '//'
var baseRules = {
  ruleType: 'ApplicationRule'
  protocols: [
    {
      protocolType: 'Https'
      port: 443
    }
  ]
  sourceAddresses: [
    '10.1.0.0/22'
  ]
}

resource policy 'Microsoft.Network/firewallPolicies@2024-05-01' = {
  name: 'policy'
  location: 'westeurope'
  properties: {
    dnsSettings: {
      enableProxy: true
    }
  }
}

resource rcg 'Microsoft.Network/firewallPolicies/ruleCollectionGroups@2024-05-01' = {
  parent: policy
  name: 'aks'
  properties: {
    priority: 300
    ruleCollections: [
      {
        ruleCollectionType: 'FirewallPolicyFilterRuleCollection'
        name: 'app'
        priority: 100
        action: {
          type: 'Allow'
        }
        rules: [for (f, i) in fqdns: if (i >= 0) {
          ...baseRules
          name: 'fqdn-${i}'
          description: '${proto}${f} ${comment}'
          targetFqdns: [
            f
          ]
        }]
      }
    ]
  }
}
