using './main.bicep'

param ruleCount = 'two'
param notDeclared = 1
