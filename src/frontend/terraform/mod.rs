//! terraform frontend.
