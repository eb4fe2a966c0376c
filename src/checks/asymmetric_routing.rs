//! (being written)

use super::Ctx;
use crate::finding::Finding;

pub fn check(_ctx: &Ctx, _out: &mut Vec<Finding>) {}
