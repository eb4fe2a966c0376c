using './main.bicep'

param env = 'prod'
param nodeCidr = '10.20.0.0/22'
