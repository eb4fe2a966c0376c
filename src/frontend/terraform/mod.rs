//! terraform frontend.

use crate::discover::TfModule;
use crate::frontend::FrontendOptions;
use crate::model::Model;
use crate::source::{FileId, Sources};

/// Read every Terraform module folder (and plan JSON) into the model.
pub fn load(
    _sources: &Sources,
    _modules: &[TfModule],
    _plans: &[FileId],
    _opts: &FrontendOptions,
) -> Model {
    Model::default()
}
