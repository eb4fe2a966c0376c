//! nsg frontend.
