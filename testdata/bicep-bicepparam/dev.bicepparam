using 'main.bicep'

// Strings that start like comments stay strings here too.
var note = '//dev'
param env = 'dev'
param nodeCidr = '10.10.0.0/22'
