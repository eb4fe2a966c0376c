// OK: a parameter whose type is a user-defined type made nullable
// (`param extra subnetType?`), as Azure Verified Modules write most of their
// parameters, is valid Bicep. The cluster uses the load balancer: nothing is
// missing, and no parse error.

import { subnetType } from 'types.bicep'

param extra subnetType?

param nodes subnetType = {
  name: 'nodes'
  prefix: '10.5.0.0/22'
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: 'vnet'
  location: 'westeurope'
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.5.0.0/16'
      ]
    }
    subnets: [
      {
        name: nodes.name
        properties: {
          addressPrefix: nodes.prefix
        }
      }
    ]
  }
}

resource aks 'Microsoft.ContainerService/managedClusters@2024-05-01' = {
  name: 'aks'
  location: 'westeurope'
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
