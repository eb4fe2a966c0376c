using './main.bicep'

param prefix = 'contoso'
param location = 'westeurope'
