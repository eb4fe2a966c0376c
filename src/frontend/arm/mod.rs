//! arm frontend.
