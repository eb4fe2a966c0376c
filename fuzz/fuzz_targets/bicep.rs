//! Bicep: parser and evaluator on arbitrary text, as a template and as a
//! `.bicepparam` file that uses it. `cargo fuzz run bicep`.
#![no_main]

use aks_egress_lint::frontend::{FrontendOptions, bicep};
use aks_egress_lint::source::Sources;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut src = Sources::new();
    let main = src.add_named("main.bicep", text);
    let module = src.add_named("mod.bicep", text);
    let params = src.add_named("main.bicepparam", format!("using './main.bicep'\n{text}"));
    let _ = bicep::load(&src, &[main, module], &[params], &FrontendOptions::default());
});
