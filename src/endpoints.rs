//! `aks-egress-lint endpoints`: what a cluster needs, offline.
