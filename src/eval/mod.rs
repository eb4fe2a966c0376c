//! Flow evaluation: for (cluster, node subnet) → (destination, protocol, port),
//! Allowed, Denied or Unknown, with the trace of every hop that decided it.
