// Hub-spoke over modules: the network, the firewall policy, the route table
// and the cluster each live in their own file.
// NOT OK: the policy does not allow packages.aks.azure.com.

param location string = resourceGroup().location
param prefix string

var routeTableName = '${prefix}-rt-aks'

module network './modules/network.bicep' = {
  name: 'network'
  params: {
    location: location
    prefix: prefix
    routeTableName: routeTableName
  }
}

module firewall './modules/firewall.bicep' = {
  name: 'firewall'
  params: {
    location: location
    prefix: prefix
    firewallSubnetId: network.outputs.firewallSubnetId
    nodeCidr: network.outputs.aksSubnetPrefix
  }
}

module routes './modules/routes.bicep' = {
  name: 'routes'
  params: {
    location: location
    name: routeTableName
    firewallPrivateIp: firewall.outputs.privateIp
  }
}

module aks './modules/aks.bicep' = {
  name: 'aks'
  params: {
    location: location
    name: '${prefix}-aks'
    subnetId: network.outputs.aksSubnetId
  }
}
