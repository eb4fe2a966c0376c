//! Linking: resolves references across resources and files.
