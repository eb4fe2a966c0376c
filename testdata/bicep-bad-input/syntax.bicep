resource rt 'Microsoft.Network/routeTables@2024-05-01' = {
  name: 'rt'
  properties: {
    routes: [
      {
        name: 'default'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance' 'extra'
        }
      }
    ]
  }
}
