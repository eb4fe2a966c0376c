prefix    = "tfvars"
location  = "westeurope"
from_auto = "tfvars"
