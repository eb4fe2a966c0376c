//! Module calls: local modules become instances with their inputs and
//! outputs, to any depth; registry, git and out-of-root sources are not
//! followed and leave their outputs unknown with a note.

use super::eval::{Children, Ev, Inst, Prog, Shape, Slot, SlotKind, join_path};
use super::parse::block_span;
use super::value::V;
use crate::source::normalize;
use hcl_edit::expr::{Expression, TraversalOperator};
use std::collections::BTreeMap;
use std::path::Path;

impl<'a> Ev<'a> {
    /// The instances of module call `name` in instance `mi` (created once).
    pub fn children(&mut self, mi: usize, name: &str) -> Children {
        match self.insts.get(mi).and_then(|i| i.children.get(name)) {
            Some(Some(c)) => return c.clone(),
            Some(None) => return Children::External(format!("module `{name}` uses itself")),
            None => {}
        }
        if let Some(i) = self.insts.get_mut(mi) {
            i.children.insert(name.to_string(), None);
        }
        let c = self.children_uncached(mi, name);
        if let Some(i) = self.insts.get_mut(mi) {
            i.children.insert(name.to_string(), Some(c.clone()));
        }
        c
    }

    fn children_uncached(&mut self, mi: usize, name: &str) -> Children {
        let m = self.src(mi);
        let Some(&at) = m.calls.get(name) else {
            return Children::External(format!("no module block `{name}`"));
        };
        let Some(b) = m.block(at) else {
            return Children::External("missing block".into());
        };
        let file = m.file_id(at);
        let source = b
            .body
            .get_attribute("source")
            .and_then(|a| match &a.value {
                Expression::String(s) => Some(s.value().to_string()),
                _ => None,
            })
            .unwrap_or_default();
        let depth = self.insts.get(mi).map(|i| i.depth).unwrap_or(0);
        let parent_path = self
            .insts
            .get(mi)
            .map(|i| i.path.clone())
            .unwrap_or_default();
        let parent_cond = self.insts.get(mi).and_then(|i| i.condition.clone());
        let parent_tag = self
            .insts
            .get(mi)
            .map(|i| i.root_tag.clone())
            .unwrap_or_default();
        let span = block_span(file, b);
        let reason = if !is_local_source(self.prog, &m.dir, &source) {
            let r = format!(
                "module `{name}` comes from `{source}`, which is not fetched; its outputs are unknown"
            );
            self.note(
                span,
                r.clone(),
                Some(
                    "vendor the module into the repository or lint a `terraform show -json` plan"
                        .into(),
                ),
            );
            r
        } else {
            let dir = normalize(&m.dir.join(&source));
            if !self.inside_root(&dir) {
                let r = format!(
                    "module `{name}` points outside the scanned root (`{source}`); it was not followed"
                );
                self.note(span, r.clone(), None);
                r
            } else if depth >= 32 {
                let r = format!("module `{name}` is nested more than 32 levels deep");
                self.note(span, r.clone(), None);
                r
            } else if let Some(&src) = self.prog.by_dir.get(&dir) {
                let exp = self.expand(mi, file, &b.body, &format!("`module.{name}`"));
                let mut ids = vec![];
                for (k, scope) in &exp.items {
                    if self.insts.len() > 10_000 {
                        break;
                    }
                    let id = self.insts.len();
                    let mut inst = Inst::new(src, join_path(&parent_path, name, k));
                    inst.root_tag = parent_tag.clone();
                    inst.parent = Some(mi);
                    inst.call = Some(at);
                    inst.call_scope = scope.clone();
                    inst.depth = depth + 1;
                    inst.condition = exp.condition.clone().or(parent_cond.clone());
                    self.insts.push(inst);
                    ids.push(id);
                }
                return Children::Local(exp, ids);
            } else {
                let r = format!(
                    "module `{name}` (`{source}`) has no .tf files in the scanned tree; its outputs are unknown"
                );
                self.note(span, r.clone(), None);
                r
            }
        };
        Children::External(reason)
    }

    fn inside_root(&self, dir: &Path) -> bool {
        let root = &self.opts.root;
        if root.as_os_str().is_empty() {
            return true;
        }
        let abs = |p: &Path| {
            if p.is_absolute() {
                normalize(p)
            } else {
                std::env::current_dir()
                    .map(|c| normalize(&c.join(p)))
                    .unwrap_or_else(|_| normalize(p))
            }
        };
        abs(dir).starts_with(abs(root))
    }

    pub fn output(&mut self, mi: usize, name: &str) -> V {
        if let Some(s) = self.insts.get(mi).and_then(|i| i.out_cache.get(name)) {
            return match s {
                Slot::Done(v) => v.clone(),
                Slot::Busy => V::error(format!("output `{name}` refers to itself")),
            };
        }
        let m = self.src(mi);
        let Some(b) = m.outputs.get(name).and_then(|r| m.block(*r)) else {
            return V::error(format!("module has no output `{name}`"));
        };
        self.set_slot(mi, SlotKind::Out, name, Slot::Busy);
        let v = match b.body.get_attribute("value") {
            Some(a) => self.eval(mi, &vec![], &a.value),
            None => V::Null,
        };
        self.set_slot(mi, SlotKind::Out, name, Slot::Done(v.clone()));
        v
    }

    fn module_object(&mut self, mi: usize) -> V {
        let names: Vec<String> = self.src(mi).outputs.keys().cloned().collect();
        let mut m = BTreeMap::new();
        for n in names {
            let v = self.output(mi, &n);
            m.insert(n, v);
        }
        V::map(m)
    }

    /// `module.<name>` followed by `ops`: returns the value and how many
    /// operators were consumed.
    pub(super) fn module_ref(
        &mut self,
        mi: usize,
        name: &str,
        next: Option<&TraversalOperator>,
    ) -> (V, usize) {
        match self.children(mi, name) {
            Children::External(r) => (
                V::unknown_hint(
                    r,
                    "vendor the module into the repository or lint a `terraform show -json` plan",
                ),
                0,
            ),
            Children::Local(exp, ids) => {
                if exp.condition.is_some() && exp.shape != Shape::Single {
                    let r = exp.condition.map(|c| c.reason).unwrap_or_default();
                    return (V::unknown(r), 0);
                }
                match exp.shape {
                    Shape::Single => {
                        let Some(&child) = ids.first() else {
                            return (V::Null, 0);
                        };
                        // Evaluate only the output asked for: cheaper, and no
                        // false cycles between a module's inputs and outputs.
                        if let Some(TraversalOperator::GetAttr(o)) = next {
                            return (self.output(child, o.as_str()), 1);
                        }
                        (self.module_object(child), 0)
                    }
                    Shape::Count => (
                        V::List(ids.iter().map(|c| self.module_object(*c)).collect()),
                        0,
                    ),
                    Shape::ForEach => {
                        let mut m = BTreeMap::new();
                        for ((k, _), c) in exp.items.iter().zip(ids.iter()) {
                            if let Some(k) = k.as_ref().and_then(V::as_string) {
                                let o = self.module_object(*c);
                                m.insert(k, o);
                            }
                        }
                        (V::map(m), 0)
                    }
                }
            }
        }
    }
}

/// A local module source: `./x`, `../x`, or a bare relative folder name as
/// Terraform 0.11 accepted it (`source = "oms"`) when that folder is scanned.
pub fn is_local_source(prog: &Prog, dir: &Path, source: &str) -> bool {
    if source.starts_with("./") || source.starts_with("../") {
        return true;
    }
    let remote = source.contains("::")
        || source.contains("://")
        || source.starts_with("git@")
        || source.starts_with("github.com/")
        || source.starts_with("bitbucket.org/")
        || matches!(source.split('/').count(), 3 | 4);
    !remote && !source.is_empty() && prog.by_dir.contains_key(&normalize(&dir.join(source)))
}
