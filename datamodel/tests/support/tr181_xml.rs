//! Test-only reader of the Broadband Forum's TR-181 XML (cwmp-datamodel schema) and a
//! checker that compares a [`Schema`] with it. Reusable by other crates' tests with
//! `#[path = ".../datamodel/tests/support/tr181_xml.rs"] mod tr181_xml;`.
//!
//! The reader expands what the files actually use: `<import>` with renames
//! (`<component name="Alias" ref="_AliasUSP"/>`), `<component>` definitions placed by
//! `<component ref=".." path="..">` (inside models, components and objects),
//! `<model base="..">` chains, `<object name>` definitions and `<object base>` /
//! `<parameter base>` refinements, and `<dataType>` chains down to a base type.
//! Mount points (`mountType="mountPoint"`, e.g. `Device.ProxiedDevice.{i}.`) accept the
//! mountable objects of `Device.` below them, as TR-181 defines.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use roxmltree::{Document, Node};
use usp_datamodel::schema::ObjectDef;
use usp_datamodel::{Access, ParamType, Schema, VENDOR_PREFIX};

/// A parameter as the XML declares it.
#[derive(Debug, Clone, Default)]
pub struct XParam {
    pub ty: Option<String>,
    pub list: bool,
    pub access: String,
}

/// A command as the XML declares it.
#[derive(Debug, Clone, Default)]
pub struct XCommand {
    pub is_async: bool,
    pub input: Vec<String>,
    pub output: Vec<String>,
}

/// An object as the XML declares it.
#[derive(Debug, Clone, Default)]
pub struct XObject {
    pub access: String,
    pub mount_point: bool,
    pub params: BTreeMap<String, XParam>,
    pub commands: BTreeMap<String, XCommand>,
    pub events: BTreeMap<String, Vec<String>>,
}

/// The expanded model: supported object path -> object.
#[derive(Debug, Default)]
pub struct XmlModel {
    pub objects: BTreeMap<String, XObject>,
}

struct Loader {
    dir: PathBuf,
    docs: HashMap<String, &'static Document<'static>>,
}

impl Loader {
    fn doc(&mut self, file: &str) -> Option<&'static Document<'static>> {
        if let Some(d) = self.docs.get(file) {
            return Some(d);
        }
        let text = std::fs::read_to_string(self.dir.join(file)).ok()?;
        let text: &'static str = Box::leak(text.into_boxed_str());
        // tr-106-types.xml declares entities in an internal DTD.
        let opts = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        };
        let doc = Document::parse_with_options(text, opts).ok()?;
        let doc: &'static Document<'static> = Box::leak(Box::new(doc));
        self.docs.insert(file.to_owned(), doc);
        Some(doc)
    }

    /// Finds the `kind` element named `name` as seen from `file` (local definition or
    /// through the file's imports, following renames).
    fn resolve(
        &mut self,
        file: &str,
        kind: &str,
        name: &str,
        depth: u32,
    ) -> Option<(String, Node<'static, 'static>)> {
        if depth > 20 {
            return None;
        }
        let doc = self.doc(file)?;
        let root = doc.root_element();
        if let Some(n) = root.children().find(|c| {
            c.has_tag_name(kind)
                && c.attribute("name") == Some(name)
                && c.attribute("ref").is_none()
        }) {
            return Some((file.to_owned(), n));
        }
        for imp in root.children().filter(|c| c.has_tag_name("import")) {
            let Some(target) = imp.attribute("file") else {
                continue;
            };
            for item in imp.children().filter(|c| c.has_tag_name(kind)) {
                if item.attribute("name") == Some(name) {
                    let real = item.attribute("ref").unwrap_or(name).to_owned();
                    return self.resolve(target, kind, &real, depth + 1);
                }
            }
        }
        None
    }

    /// The base type of a `<syntax>`: (type name, list).
    fn syntax_type(
        &mut self,
        file: &str,
        syntax: Node<'static, 'static>,
    ) -> (Option<String>, bool) {
        let mut list = false;
        for c in syntax.children().filter(Node::is_element) {
            match c.tag_name().name() {
                "list" => list = true,
                "dataType" => {
                    let Some(r) = c.attribute("ref") else {
                        continue;
                    };
                    let (ty, l) = self.data_type(file, r, 0);
                    return (ty, list || l);
                }
                "default" => {}
                other => return (Some(other.to_owned()), list),
            }
        }
        (None, list)
    }

    fn data_type(&mut self, file: &str, name: &str, depth: u32) -> (Option<String>, bool) {
        let Some((f, node)) = self.resolve(file, "dataType", name, depth) else {
            return (None, false);
        };
        let mut list = false;
        for c in node.children().filter(Node::is_element) {
            match c.tag_name().name() {
                "list" => list = true,
                "description" | "default" => {}
                other => return (Some(other.to_owned()), list),
            }
        }
        match node.attribute("base") {
            Some(b) => {
                let (ty, l) = self.data_type(&f, b, depth + 1);
                (ty, list || l)
            }
            None => (None, list),
        }
    }
}

impl XmlModel {
    /// Loads the model rooted at the last `<model>` of `root_file` in `dir`.
    pub fn load(dir: &Path, root_file: &str) -> Result<XmlModel, String> {
        let mut loader = Loader {
            dir: dir.to_path_buf(),
            docs: HashMap::new(),
        };
        let doc = loader
            .doc(root_file)
            .ok_or_else(|| format!("cannot read {}", dir.join(root_file).display()))?;
        let model = doc
            .root_element()
            .children()
            .rfind(|c| c.has_tag_name("model"))
            .ok_or("no <model> in the root file")?;
        let mut out = XmlModel::default();
        out.model(&mut loader, root_file, model, 0);
        Ok(out)
    }

    fn model(&mut self, l: &mut Loader, file: &str, model: Node<'static, 'static>, depth: u32) {
        if depth > 10 {
            return;
        }
        if let Some(base) = model.attribute("base")
            && let Some((f, m)) = l.resolve(file, "model", base, 0)
        {
            self.model(l, &f, m, depth + 1);
        }
        self.children(l, file, model, "");
    }

    fn obj(&mut self, path: &str) -> &mut XObject {
        self.objects.entry(path.to_owned()).or_default()
    }

    /// Expands the children of a model or component placed at `base`.
    fn children(&mut self, l: &mut Loader, file: &str, node: Node<'static, 'static>, base: &str) {
        for c in node.children().filter(Node::is_element) {
            match c.tag_name().name() {
                "component" => self.component_ref(l, file, c, base),
                "object" => {
                    let Some(name) = c.attribute("name").or(c.attribute("base")) else {
                        continue;
                    };
                    let full = format!("{base}{name}");
                    if c.attribute("name").is_some() {
                        let o = self.obj(&full);
                        o.access = c.attribute("access").unwrap_or("readOnly").to_owned();
                        o.mount_point = c.attribute("mountType") == Some("mountPoint");
                    } else {
                        self.obj(&full);
                    }
                    self.members(l, file, c, &full);
                }
                "parameter" | "command" | "event" => self.member(l, file, c, base),
                _ => {}
            }
        }
    }

    fn component_ref(&mut self, l: &mut Loader, file: &str, c: Node<'static, 'static>, base: &str) {
        let Some(name) = c.attribute("ref") else {
            return;
        };
        let Some((f, comp)) = l.resolve(file, "component", name, 0) else {
            return;
        };
        let placed = format!("{base}{}", c.attribute("path").unwrap_or(""));
        self.children(l, &f, comp, &placed);
    }

    fn members(&mut self, l: &mut Loader, file: &str, obj: Node<'static, 'static>, full: &str) {
        for c in obj.children().filter(Node::is_element) {
            match c.tag_name().name() {
                "component" => self.component_ref(l, file, c, full),
                "parameter" | "command" | "event" => self.member(l, file, c, full),
                _ => {}
            }
        }
    }

    fn member(&mut self, l: &mut Loader, file: &str, c: Node<'static, 'static>, obj_path: &str) {
        let Some(name) = c.attribute("name").or(c.attribute("base")) else {
            return;
        };
        match c.tag_name().name() {
            "parameter" => {
                let syntax = c.children().find(|s| s.has_tag_name("syntax"));
                let (ty, list) = match syntax {
                    Some(s) => l.syntax_type(file, s),
                    None => (None, false),
                };
                let o = self.obj(obj_path);
                let p = o.params.entry(name.to_owned()).or_default();
                if let Some(a) = c.attribute("access") {
                    p.access = a.to_owned();
                }
                if ty.is_some() {
                    p.ty = ty;
                    p.list = list;
                }
            }
            "command" => {
                let args = |tag: &str| -> Vec<String> {
                    c.children()
                        .filter(|x| x.has_tag_name(tag))
                        .flat_map(|x| {
                            x.children()
                                .filter(|p| p.has_tag_name("parameter") || p.has_tag_name("object"))
                        })
                        .filter_map(|p| p.attribute("name").map(str::to_owned))
                        .collect()
                };
                let cmd = XCommand {
                    is_async: c.attribute("async") == Some("true"),
                    input: args("input"),
                    output: args("output"),
                };
                self.obj(obj_path).commands.insert(name.to_owned(), cmd);
            }
            _ => {
                let args = c
                    .children()
                    .filter(|p| p.has_tag_name("parameter") || p.has_tag_name("object"))
                    .filter_map(|p| p.attribute("name").map(str::to_owned))
                    .collect();
                self.obj(obj_path).events.insert(name.to_owned(), args);
            }
        }
    }

    /// The XML object for a schema path, looking through mount points; the second
    /// value is the mount root the path was re-based to (for `NumberOfEntries` of
    /// mounted tables, which live on `Device.`).
    pub fn find(&self, path: &str) -> Option<(&XObject, Option<&XObject>)> {
        if let Some(o) = self.objects.get(path) {
            let root = o.mount_point.then(|| self.objects.get("Device.")).flatten();
            return Some((o, root));
        }
        let mount = self
            .objects
            .iter()
            .filter(|(p, o)| o.mount_point && path.starts_with(p.as_str()) && path.len() > p.len())
            .max_by_key(|(p, _)| p.len())?;
        let rebased = format!("Device.{}", &path[mount.0.len()..]);
        self.find(&rebased)
    }
}

fn is_vendor(name: &str) -> bool {
    name.starts_with(VENDOR_PREFIX)
}

fn type_name(t: ParamType) -> &'static str {
    t.xml_name()
}

fn access_name(a: Access) -> &'static str {
    match a {
        Access::ReadOnly => "readOnly",
        Access::ReadWrite | Access::WriteOnly => "readWrite",
        Access::WriteOnceReadOnly => "writeOnceReadOnly",
    }
}

/// Every difference between `schema` and the XML model; empty when conformant.
pub fn check(schema: &Schema, xml: &XmlModel) -> Vec<String> {
    let mut errs = Vec::new();
    for id in schema.ids() {
        let def = schema.obj(id);
        let path = def.path();
        if path.split('.').any(is_vendor) {
            continue;
        }
        let Some((x, mount_root)) = xml.find(path) else {
            errs.push(format!("object {path} is not in TR-181"));
            continue;
        };
        // The multi-instance shape is part of the path (`.{i}.`), so finding the object
        // by its supported path already checks it.
        if def.access().can_add() && x.access != "readWrite" {
            errs.push(format!(
                "object {path}: allows Add/Delete but TR-181 says {}",
                x.access
            ));
        }
        // A table TR-181 lets Controllers add to may be read-only here (rows the agent
        // fills itself); the reverse is an error.
        check_params(def, path, x, mount_root, &mut errs);
        check_commands(def, path, x, &mut errs);
        check_events(def, path, x, &mut errs);
    }
    errs
}

fn check_params(
    def: &ObjectDef,
    path: &str,
    x: &XObject,
    mount_root: Option<&XObject>,
    errs: &mut Vec<String>,
) {
    for p in def.params() {
        if is_vendor(p.name()) {
            continue;
        }
        let found = x
            .params
            .get(p.name())
            .or_else(|| mount_root.and_then(|r| r.params.get(p.name())));
        let Some(xp) = found else {
            errs.push(format!("parameter {path}{} is not in TR-181", p.name()));
            continue;
        };
        if xp.ty.as_deref() != Some(type_name(p.ty())) {
            errs.push(format!(
                "parameter {path}{}: type {} but TR-181 says {:?}",
                p.name(),
                type_name(p.ty()),
                xp.ty
            ));
        }
        if xp.list != p.is_list() {
            errs.push(format!("parameter {path}{}: list-ness differs", p.name()));
        }
        if xp.access != access_name(p.get_access()) {
            errs.push(format!(
                "parameter {path}{}: access {} but TR-181 says {}",
                p.name(),
                access_name(p.get_access()),
                xp.access
            ));
        }
    }
}

fn check_commands(def: &ObjectDef, path: &str, x: &XObject, errs: &mut Vec<String>) {
    for c in def.commands() {
        if is_vendor(c.name()) {
            continue;
        }
        let Some(xc) = x.commands.get(c.name()) else {
            errs.push(format!("command {path}{} is not in TR-181", c.name()));
            continue;
        };
        if xc.is_async != c.is_async() {
            errs.push(format!("command {path}{}: async differs", c.name()));
        }
        for a in c
            .inputs()
            .iter()
            .filter(|a| !xc.input.iter().any(|x| x == a.name()))
        {
            errs.push(format!(
                "command {path}{}: input {} is not in TR-181",
                c.name(),
                a.name()
            ));
        }
        for a in c
            .outputs()
            .iter()
            .filter(|a| !xc.output.iter().any(|x| x == a.name()))
        {
            errs.push(format!(
                "command {path}{}: output {} is not in TR-181",
                c.name(),
                a.name()
            ));
        }
    }
}

fn check_events(def: &ObjectDef, path: &str, x: &XObject, errs: &mut Vec<String>) {
    for e in def.events() {
        if is_vendor(e.name()) {
            continue;
        }
        let Some(xe) = x.events.get(e.name()) else {
            errs.push(format!("event {path}{} is not in TR-181", e.name()));
            continue;
        };
        for a in e
            .args()
            .iter()
            .filter(|a| !xe.iter().any(|x| x == a.name()))
        {
            errs.push(format!(
                "event {path}{}: argument {} is not in TR-181",
                e.name(),
                a.name()
            ));
        }
    }
}

/// The TR-181 directory beside the project (`../shared/tr181`, or `USPHUB_TR181_DIR`), or a
/// panic saying where it was looked for: the conformance test must fail, not skip, without it.
pub fn tr181_dir() -> PathBuf {
    let dir = std::env::var_os("USPHUB_TR181_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tr181"));
    assert!(
        dir.join("tr-181-2-usp.xml").is_file(),
        "TR-181 XML not found at {} (the conformance test needs ../shared/tr181)",
        dir.display()
    );
    dir
}
