//! k8s frontend.
