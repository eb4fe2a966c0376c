//! Suppressions.
