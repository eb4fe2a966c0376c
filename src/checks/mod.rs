//! Checks: one small module per finding code. They read the linked model and
//! the evaluation, never JSON or HCL.
