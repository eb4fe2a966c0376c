//! Configuration file `.aks-egress-lint.yaml`.
