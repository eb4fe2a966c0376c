//! bicep frontend.
