module b './b.bicep' = {
  name: 'b'
}

resource rt 'Microsoft.Network/routeTables@2024-05-01' = {
  name: 'rt-a'
}
