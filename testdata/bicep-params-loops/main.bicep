// Parameters with @allowed, variables, loops with index and filter,
// conditions, ternaries, interpolation, user-defined functions and lambdas.

@allowed([
  'dev'
  'prod'
])
param env string = 'prod'
param location string = 'westeurope'
param enableWindows bool = false

@description('Spoke subnets; only those with aks: true host nodes')
param subnets array = [
  {
    name: 'nodes'
    prefix: '10.1.0.0/22'
    aks: true
  }
  {
    name: 'ingress'
    prefix: '10.1.4.0/24'
    aks: false
  }
]

type allowRule = {
  name: string
  port: int
}

var nodeCidr = subnets[0].prefix
var isProd = env == 'prod'
var outboundType = isProd ? 'userDefinedRouting' : 'loadBalancer'

func ruleName(prefix string, i int) string => '${prefix}-${i}'

var allowRules allowRule[] = [
  {
    name: 'https'
    port: 443
  }
  {
    name: 'http'
    port: 80
  }
]

resource nsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: 'nsg-${env}'
  location: location
  properties: {
    securityRules: [for (r, i) in allowRules: {
      name: ruleName('allow-${r.name}', i)
      properties: {
        priority: 100 + i * 10
        direction: 'Outbound'
        access: 'Allow'
        protocol: 'Tcp'
        sourceAddressPrefix: nodeCidr
        sourcePortRange: '*'
        destinationAddressPrefix: 'Internet'
        destinationPortRange: string(r.port)
      }
    }]
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: 'vnet-${env}'
  location: location
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.1.0.0/16'
      ]
    }
    subnets: [for s in filter(subnets, x => x.aks): {
      name: s.name
      properties: {
        addressPrefix: s.prefix
        networkSecurityGroup: {
          id: nsg.id
        }
      }
    }]
  }
}

resource extra 'Microsoft.Network/virtualNetworks/subnets@2024-05-01' = [for (s, i) in subnets: if (!s.aks) {
  parent: vnet
  name: '${s.name}-${i}'
  properties: {
    addressPrefix: s.prefix
  }
}]

resource aks 'Microsoft.ContainerService/managedClusters@2024-09-01' = {
  name: toLower('AKS-${env}')
  location: location
  properties: {
    agentPoolProfiles: [
      {
        name: 'system'
        vmSize: 'Standard_D4s_v5'
        osType: 'Linux'
        vnetSubnetID: vnet.properties.subnets[0].id
      }
    ]
    networkProfile: {
      networkPlugin: 'azure'
      outboundType: outboundType
    }
    addonProfiles: {
      omsagent: {
        enabled: isProd
      }
    }
  }
}

resource win 'Microsoft.ContainerService/managedClusters/agentPools@2024-09-01' = if (enableWindows) {
  parent: aks
  name: 'win'
  properties: {
    osType: 'Windows'
    vnetSubnetID: vnet.properties.subnets[0].id
  }
}
