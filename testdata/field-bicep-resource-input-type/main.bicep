// OK: parameter types derived from a resource type (`resourceInput<'type@version'>`,
// Bicep 0.34+) with a property path and a trailing `?` are valid Bicep. The
// cluster uses the load balancer: nothing is missing, and no parse error.

param tier resourceInput<'Microsoft.Network/networkSecurityGroups@2024-05-01'>.properties.flushConnection?
param location string = 'westeurope'

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: 'vnet'
  location: location
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.4.0.0/16'
      ]
    }
    subnets: [
      {
        name: 'nodes'
        properties: {
          addressPrefix: '10.4.0.0/22'
        }
      }
    ]
  }
}

resource aks 'Microsoft.ContainerService/managedClusters@2024-05-01' = {
  name: 'aks'
  location: location
  properties: {
    dnsPrefix: 'aks'
    agentPoolProfiles: [
      {
        name: 'system'
        mode: 'System'
        vmSize: 'Standard_D4s_v5'
        vnetSubnetID: vnet.properties.subnets[0].id
      }
    ]
    networkProfile: {
      networkPlugin: 'azure'
      outboundType: 'loadBalancer'
    }
  }
}
