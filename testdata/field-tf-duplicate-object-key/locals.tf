# The first `tag` item was left behind by an edit; Terraform keeps the last one.
locals {
  firewall = {
    name = "fw"
    tag  = "AzureCloud"
    sku  = "Standard"
    tag  = "AzureKubernetesService"
  }
}
