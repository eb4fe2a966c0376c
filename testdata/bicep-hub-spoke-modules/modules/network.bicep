param location string
param prefix string
param routeTableName string

resource hub 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: '${prefix}-hub'
  location: location
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.0.0.0/16'
      ]
    }
    subnets: [
      {
        name: 'AzureFirewallSubnet'
        properties: {
          addressPrefix: '10.0.1.0/26'
        }
      }
    ]
  }
}

resource spoke 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: '${prefix}-spoke'
  location: location
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.1.0.0/16'
      ]
    }
  }

  resource aksSubnet 'subnets' = {
    name: 'aks-nodes'
    properties: {
      addressPrefix: '10.1.0.0/22'
      routeTable: {
        id: resourceId('Microsoft.Network/routeTables', routeTableName)
      }
    }
  }
}

output firewallSubnetId string = hub.properties.subnets[0].id
output aksSubnetId string = spoke::aksSubnet.id
output aksSubnetPrefix string = spoke::aksSubnet.properties.addressPrefix
