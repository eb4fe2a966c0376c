// Parity scenario (Bicep / compiled ARM JSON / Terraform): outboundType
// userDefinedRouting, but the node subnet's route table has no 0.0.0.0/0
// route (only one for the on-premises range).
// NOT OK: AEL007 on the cluster's outboundType.

resource rt 'Microsoft.Network/routeTables@2024-05-01' = {
  name: 'rt-nodes'
  location: 'westeurope'
  properties: {
    routes: [
      {
        name: 'onprem'
        properties: {
          addressPrefix: '192.168.0.0/16'
          nextHopType: 'VirtualNetworkGateway'
        }
      }
    ]
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: 'vnet-udr'
  location: 'westeurope'
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.3.0.0/16'
      ]
    }
    subnets: [
      {
        name: 'snet-nodes'
        properties: {
          addressPrefix: '10.3.0.0/22'
          routeTable: {
            id: rt.id
          }
        }
      }
    ]
  }
}

resource aks 'Microsoft.ContainerService/managedClusters@2024-09-01' = {
  name: 'aks-udr'
  location: 'westeurope'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    dnsPrefix: 'aks-udr'
    agentPoolProfiles: [
      {
        name: 'system'
        mode: 'System'
        count: 2
        vmSize: 'Standard_D4s_v5'
        osType: 'Linux'
        vnetSubnetID: vnet.properties.subnets[0].id
      }
    ]
    networkProfile: {
      networkPlugin: 'azure'
      outboundType: 'userDefinedRouting'
    }
  }
}
