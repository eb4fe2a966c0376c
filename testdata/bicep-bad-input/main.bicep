// Valid file next to broken ones: still analysed.
param ruleCount int = 2

resource rt 'Microsoft.Network/routeTables@2024-05-01' = {
  name: 'rt-${uniqueString(resourceGroup().id)}'
  location: 'westeurope'
  properties: {
    routes: [
      {
        name: 'default'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance'
          nextHopIpAddress: notAFunction('10.0.1.4')
        }
      }
    ]
  }
}
