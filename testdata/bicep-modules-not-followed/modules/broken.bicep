param x string

resource r 'Microsoft.Network/routeTables@2024-05-01' = {
  name: x
  properties: {
    routes: [
  }
}
