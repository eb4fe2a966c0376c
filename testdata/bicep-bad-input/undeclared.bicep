param location string = 'westeurope'

resource fw 'Microsoft.Network/azureFirewalls@2024-05-01' = {
  name: fwName
  location: location
}
