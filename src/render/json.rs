//! JSON output, contract version 1 (see README "JSON output").
