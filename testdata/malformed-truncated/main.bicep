param location string = 'westeurope'

resource nsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: 'nsg-cut'
  location: location
  properties: {
    securityRules: [
