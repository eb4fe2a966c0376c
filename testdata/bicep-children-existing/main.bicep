// `parent:` and nested children, `existing` resources and `::` access.

param hubVnetName string = 'hub'

resource hub 'Microsoft.Network/virtualNetworks@2024-05-01' existing = {
  name: hubVnetName

  resource fwSubnet 'subnets' existing = {
    name: 'AzureFirewallSubnet'
  }
}

resource rt 'Microsoft.Network/routeTables@2024-05-01' = {
  name: 'rt-aks'
  location: 'westeurope'
}

resource defaultRoute 'Microsoft.Network/routeTables/routes@2024-05-01' = {
  parent: rt
  name: 'default'
  properties: {
    addressPrefix: '0.0.0.0/0'
    nextHopType: 'VirtualAppliance'
    nextHopIpAddress: fw.properties.ipConfigurations[0].properties.privateIPAddress
  }
}

resource fw 'Microsoft.Network/azureFirewalls@2024-05-01' = {
  name: 'fw-hub'
  location: 'westeurope'
  properties: {
    ipConfigurations: [
      {
        name: 'ipconfig'
        properties: {
          subnet: {
            id: hub::fwSubnet.id
          }
        }
      }
    ]
    additionalProperties: {
      'Network.DNS.EnableProxy': 'true'
    }
    applicationRuleCollections: [
      {
        name: 'aks'
        properties: {
          priority: 100
          action: {
            type: 'Allow'
          }
          rules: [
            {
              name: 'aks-tag'
              sourceAddresses: [
                '10.1.0.0/22'
              ]
              protocols: [
                {
                  protocolType: 'Https'
                  port: 443
                }
              ]
              fqdnTags: [
                'AzureKubernetesService'
              ]
            }
          ]
        }
      }
    ]
  }
}

resource spoke 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: 'spoke'
  location: 'westeurope'
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.1.0.0/16'
      ]
    }
  }

  resource nodes 'subnets' = {
    name: 'nodes'
    properties: {
      addressPrefix: '10.1.0.0/22'
      routeTable: {
        id: rt.id
      }
    }
  }
}

resource aks 'Microsoft.ContainerService/managedClusters@2024-09-01' = {
  name: 'aks-children'
  location: 'westeurope'
  properties: {
    agentPoolProfiles: [
      {
        name: 'system'
        vmSize: 'Standard_D4s_v5'
        vnetSubnetID: spoke::nodes.id
      }
    ]
    networkProfile: {
      outboundType: 'userDefinedRouting'
    }
  }
}
