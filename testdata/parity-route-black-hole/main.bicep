// Parity scenario (Bicep / compiled ARM JSON / Terraform): the node
// subnet's default route has next hop `None`, which drops all egress.
// NOT OK: AEL004 on the route `default-drop`.

resource rt 'Microsoft.Network/routeTables@2024-05-01' = {
  name: 'rt-blackhole'
  location: 'westeurope'
  properties: {
    routes: [
      {
        name: 'default-drop'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'None'
        }
      }
    ]
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: 'vnet-blackhole'
  location: 'westeurope'
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.4.0.0/16'
      ]
    }
    subnets: [
      {
        name: 'snet-nodes'
        properties: {
          addressPrefix: '10.4.0.0/22'
          routeTable: {
            id: rt.id
          }
        }
      }
    ]
  }
}

resource aks 'Microsoft.ContainerService/managedClusters@2024-09-01' = {
  name: 'aks-blackhole'
  location: 'westeurope'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    dnsPrefix: 'aks-blackhole'
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
