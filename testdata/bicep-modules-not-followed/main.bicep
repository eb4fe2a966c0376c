// Modules the tool does not follow: each is an AEL008 note, and the rest
// of the template is still analysed.

module registry 'br/public:avm/res/network/virtual-network:0.5.1' = {
  name: 'registry'
  params: {
    name: 'vnet'
  }
}

module spec 'ts:00000000-0000-0000-0000-000000000000/rg/hub-firewall:1.0' = {
  name: 'spec'
}

module missing './modules/missing.bicep' = {
  name: 'missing'
}

module wrongCase './modules/Routes.bicep' = {
  name: 'wrongCase'
}

module broken './modules/broken.bicep' = {
  name: 'broken'
}

resource rt 'Microsoft.Network/routeTables@2024-05-01' = {
  name: 'rt-aks'
  location: 'westeurope'
  properties: {
    routes: [
      {
        name: 'default'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance'
          nextHopIpAddress: registry.outputs.firewallIp
        }
      }
    ]
  }
}
