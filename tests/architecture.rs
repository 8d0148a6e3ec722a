//! The dependency rules of docs/architecture.md, checked on every test run (`scripts/test`, so
//! `.ci/run`): the core's files import one way (no cycle), each module uses only modules of lower
//! layers, the pure crate has no I/O dependency, the core depends on no adapter, and an adapter
//! reaches neither the store nor another adapter.
//!
//! The import graph is read from the source: `use` trees and `crate::`/`super::`/`self::` paths,
//! resolved to the file that defines the item (through re-exports, so `chat::Reply` is
//! `message.rs`). Test modules (`#[cfg(test)]`) are left out: they may reach anything.

// A checker that cannot read what it checks must stop the test, loudly.
#![allow(clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The core's top-level modules by layer: a module uses only modules of a lower layer. A new
/// module must be placed here (the test fails until it is). The pure modules re-exported from
/// `runcoach-pure` (domain, i18n, import, plan, science) sit below all of them; the compiler
/// keeps them there, since that crate cannot name this one.
const LAYERS: &[(&str, u8)] = &[
    // The message model, error codes, the clock and metrics: leaves.
    ("message", 0),
    ("error", 0),
    ("clock", 0),
    ("metrics", 0),
    // Charts as PNG (plotters over the pure types).
    ("charts", 0),
    ("store", 1),
    // Services over the store and the pure code.
    ("history", 2),
    ("plans", 2),
    ("knowledge", 2),
    ("garmin", 2),
    // Limits every instance shares, counted in the store.
    ("limits", 2),
    // HTTP API keys and the runners each may reach.
    ("api_keys", 2),
    // Places and forecasts (Open-Meteo), cached in the store.
    ("weather", 2),
    // What is past its keeping time, deleted once a day.
    ("retention", 2),
    ("summary", 3),
    ("agent", 3),
    // Plan tracking: runs tick sessions off, days end with missed sessions marked.
    ("tracking", 3),
    // Goals with their progress (from the history).
    ("goals", 3),
    // The day's session with its weather and watch button (/today, the morning reminder).
    ("today", 3),
    // The scheduler sends weekly summaries and club digests.
    ("scheduler", 4),
    // Dispatch and flows: what adapters talk to.
    ("chat", 5),
    // The settings gather every part's configuration, for the binary.
    ("config", 6),
];

/// What the pure crate may never depend on, directly or not: a runtime, a database, a network
/// client, ONNX Runtime.
const IO_CRATES: &[&str] =
    &["tokio", "mio", "sqlx", "sqlx-core", "reqwest", "hyper", "ort", "ort-sys", "fastembed", "async-openai", "axum"];
const ADAPTERS: &[&str] = &["runcoach-telegram", "runcoach-discord", "runcoach-http", "runcoach-console"];
const PLATFORM_CRATES: &[&str] = &["teloxide", "teloxide-core", "serenity", "poise", "axum"];

type ModPath = Vec<String>;

/// One source file, as far as imports go.
#[derive(Default)]
struct FileInfo {
    /// Names of the items defined at the top of the file.
    defines: BTreeSet<String>,
    /// `use` leaves: the name they bind and the path it stands for (`None`: a glob `path::*`).
    uses: Vec<(Option<String>, Vec<String>)>,
    /// For each of `uses`, whether it is a re-export (`pub use`): a module's interface, followed
    /// to the definitions but not an import of the module itself.
    reexports: Vec<bool>,
    /// `crate::…`, `super::…` and `self::…` paths written inline.
    paths: Vec<Vec<String>>,
}

/// The core's files by module path (`src/chat/core.rs` is `["chat", "core"]`).
struct Crate {
    files: BTreeMap<ModPath, FileInfo>,
}

fn module_path(rel: &str) -> ModPath {
    let rel = rel.trim_end_matches(".rs");
    let mut parts: Vec<String> = rel.split('/').map(str::to_owned).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// Drops comments, string contents and `#[cfg(test)]` modules (conventionally last in a file).
fn code_only(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod ").or_else(|| text.find("#[cfg(test)]\npub(crate) mod ")) {
        Some(i) => text.get(..i).unwrap_or(text),
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        let mut in_str = false;
        let mut prev = ' ';
        let mut kept = String::new();
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            if !in_str && c == '/' && chars.get(i + 1) == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' {
                in_str = !in_str;
                kept.push('"');
            } else if !in_str {
                kept.push(c);
            }
            prev = if prev == '\\' && c == '\\' { ' ' } else { c };
            i += 1;
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Leaves of a use tree (`a::{b, c::{self, d as e}, f::*}`) with the name each binds.
fn use_leaves(tree: &str, prefix: &[String], out: &mut Vec<(Option<String>, Vec<String>)>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = tree
            .get(..open)
            .unwrap_or("")
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let inner = tree.get(open + 1..tree.rfind('}').unwrap_or(tree.len())).unwrap_or("");
        let mut base = prefix.to_vec();
        base.extend(head);
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    use_leaves(inner.get(start..i).unwrap_or(""), &base, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        use_leaves(inner.get(start..).unwrap_or(""), &base, out);
        return;
    }
    if tree.is_empty() {
        return;
    }
    let (path, alias) = match tree.split_once(" as ") {
        Some((p, a)) => (p.trim(), Some(a.trim().to_owned())),
        None => (tree, None),
    };
    let mut full = prefix.to_vec();
    full.extend(path.split("::").map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned));
    match full.last().map(String::as_str) {
        Some("*") => {
            full.pop();
            out.push((None, full));
        }
        Some("self") => {
            full.pop();
            let name = alias.or_else(|| full.last().cloned());
            out.push((name, full));
        }
        Some(last) => {
            let name = alias.unwrap_or_else(|| last.to_owned());
            out.push((Some(name), full));
        }
        None => {}
    }
}

fn parse_file(text: &str) -> FileInfo {
    let code = code_only(text);
    let mut info = FileInfo::default();
    let mut rest = code.as_str();
    let mut body = String::new();
    // `use` statements (at any indentation), then inline paths in what is left.
    while let Some(i) = find_use(rest) {
        body.push_str(rest.get(..i).unwrap_or(""));
        let after = rest.get(i..).unwrap_or("");
        let stmt_start = after.find("use ").map_or(0, |u| u + 4);
        let end = after.find(';').unwrap_or(after.len());
        let before = info.uses.len();
        use_leaves(after.get(stmt_start..end).unwrap_or(""), &[], &mut info.uses);
        let public = after.starts_with("pub");
        info.reexports.extend(std::iter::repeat_n(public, info.uses.len() - before));
        rest = after.get(end + 1..).unwrap_or("");
    }
    body.push_str(rest);
    for line in code.lines() {
        if line.starts_with(' ') || line.starts_with('\t') {
            continue;
        }
        let mut words = line.split_whitespace().peekable();
        while let Some(w) = words.peek() {
            if w.starts_with("pub") || *w == "async" || *w == "const" && line.contains(" fn ") || *w == "unsafe" {
                words.next();
            } else {
                break;
            }
        }
        if let (Some(kind), Some(name)) = (words.next(), words.next())
            && matches!(kind, "fn" | "struct" | "enum" | "trait" | "type" | "const" | "static" | "mod" | "union")
        {
            let name: String = name.chars().take_while(|c| is_ident(*c)).collect();
            info.defines.insert(name);
        }
    }
    let bytes: Vec<char> = body.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || bytes.get(i - 1).is_some_and(|c| !is_ident(*c) && *c != ':');
        let rest: String = bytes.get(i..(i + 8).min(bytes.len())).unwrap_or(&[]).iter().collect();
        let root = ["crate::", "super::", "self::"].into_iter().find(|r| rest.starts_with(r));
        if let (true, Some(_)) = (starts_word, root) {
            let mut j = i;
            let mut segs = Vec::new();
            loop {
                let start = j;
                while bytes.get(j).is_some_and(|c| is_ident(*c)) {
                    j += 1;
                }
                if j == start {
                    break;
                }
                segs.push(bytes.get(start..j).unwrap_or(&[]).iter().collect::<String>());
                if bytes.get(j) == Some(&':') && bytes.get(j + 1) == Some(&':') {
                    j += 2;
                } else {
                    break;
                }
            }
            info.paths.push(segs);
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    info
}

/// Where the next `use` statement starts (at a line start, after `pub…`).
fn find_use(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        let t2 = t
            .strip_prefix("pub(crate) ")
            .or_else(|| t.strip_prefix("pub(super) "))
            .or_else(|| t.strip_prefix("pub "))
            .unwrap_or(t);
        if t2.starts_with("use ") {
            return Some(offset + (line.len() - t.len()));
        }
        offset += line.len();
    }
    None
}

impl Crate {
    fn from_sources(sources: &BTreeMap<String, String>) -> Crate {
        let files = sources.iter().map(|(rel, text)| (module_path(rel), parse_file(text))).collect();
        Crate { files }
    }

    fn read(src: &Path) -> Crate {
        let mut sources = BTreeMap::new();
        let mut stack = vec![src.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read src") {
                let path = entry.expect("dir entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let rel = path.strip_prefix(src).expect("under src").to_string_lossy().replace('\\', "/");
                    sources.insert(rel, std::fs::read_to_string(&path).expect("read source"));
                }
            }
        }
        Crate::from_sources(&sources)
    }

    /// The file an absolute or relative path leads to, from module `from`; `None` when it leaves
    /// this crate.
    fn resolve(&self, from: &[String], path: &[String], depth: u8) -> Option<ModPath> {
        let (mut module, rest): (ModPath, &[String]) = match path.first().map(String::as_str) {
            Some("crate") => (Vec::new(), path.get(1..).unwrap_or(&[])),
            Some("super") => {
                let mut m = from.to_vec();
                let mut rest = path;
                while rest.first().map(String::as_str) == Some("super") {
                    m.pop();
                    rest = rest.get(1..).unwrap_or(&[]);
                }
                (m, rest)
            }
            Some("self") => (from.to_vec(), path.get(1..).unwrap_or(&[])),
            Some(first) => {
                // A name bound in `from` by a `use`, or a child module of it.
                let mut child = from.to_vec();
                child.push(first.to_owned());
                if self.files.contains_key(&child) {
                    (child, path.get(1..).unwrap_or(&[]))
                } else {
                    let bound = self.files.get(from)?.uses.iter().find(|(n, _)| n.as_deref() == Some(first))?;
                    let mut full = bound.1.clone();
                    full.extend(path.get(1..).unwrap_or(&[]).iter().cloned());
                    return if depth > 8 { None } else { self.resolve(from, &full, depth + 1) };
                }
            }
            None => return None,
        };
        let mut rest = rest;
        while let Some(seg) = rest.first() {
            let mut child = module.clone();
            child.push(seg.clone());
            if self.files.contains_key(&child) {
                module = child;
                rest = rest.get(1..).unwrap_or(&[]);
            } else {
                break;
            }
        }
        let Some(item) = rest.first() else {
            return Some(module);
        };
        self.resolve_item(&module, item, depth)
    }

    /// The file that defines `item` as seen from module `module` (following its re-exports).
    fn resolve_item(&self, module: &ModPath, item: &str, depth: u8) -> Option<ModPath> {
        let info = self.files.get(module)?;
        if info.defines.contains(item) || depth > 8 {
            return Some(module.clone());
        }
        if let Some((_, path)) = info.uses.iter().find(|(n, _)| n.as_deref() == Some(item)) {
            return self.resolve(module, path, depth + 1);
        }
        for (_, glob) in info.uses.iter().filter(|(n, _)| n.is_none()) {
            if let Some(target) = self.resolve(module, glob, depth + 1)
                && self.files.get(&target).is_some_and(|f| f.defines.contains(item))
            {
                return Some(target);
            }
        }
        // An enum variant, a macro, an item of an external crate re-exported here.
        if module.is_empty() { None } else { Some(module.clone()) }
    }

    /// File-level import edges (a file to itself and re-exports left out).
    fn edges(&self) -> BTreeSet<(ModPath, ModPath)> {
        let mut edges = BTreeSet::new();
        for (module, info) in &self.files {
            let imports = info.uses.iter().zip(&info.reexports).filter(|(_, public)| !**public).map(|((_, p), _)| p);
            let paths = imports.chain(info.paths.iter());
            for path in paths {
                if let Some(target) = self.resolve(module, path, 0)
                    && target != *module
                    && !target.is_empty()
                    && self.files.contains_key(&target)
                {
                    edges.insert((module.clone(), target));
                }
            }
        }
        edges
    }
}

/// Strongly connected components with more than one file: the import cycles.
fn cycles(edges: &BTreeSet<(ModPath, ModPath)>) -> Vec<Vec<ModPath>> {
    let nodes: BTreeSet<&ModPath> = edges.iter().flat_map(|(a, b)| [a, b]).collect();
    let reach = |from: &ModPath| -> BTreeSet<ModPath> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for (a, b) in edges {
                if *a == n && seen.insert(b.clone()) {
                    stack.push(b.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&ModPath, BTreeSet<ModPath>> = nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut found: Vec<Vec<ModPath>> = Vec::new();
    for n in &nodes {
        if found.iter().any(|c| c.contains(n)) {
            continue;
        }
        let component: Vec<ModPath> = nodes
            .iter()
            .filter(|m| **m == *n || reachable[*n].contains(**m) && reachable[**m].contains(*n))
            .map(|m| (*m).clone())
            .collect();
        if component.len() > 1 {
            found.push(component);
        }
    }
    found
}

fn show(m: &ModPath) -> String {
    if m.is_empty() { "lib".into() } else { m.join("::") }
}

/// Edges between top-level modules that do not go down the layers, and modules with no layer.
fn layer_violations(edges: &BTreeSet<(ModPath, ModPath)>, modules: &BTreeSet<String>) -> Vec<String> {
    let rank = |m: &str| LAYERS.iter().find(|(n, _)| *n == m).map(|(_, r)| *r);
    let mut out: Vec<String> =
        modules.iter().filter(|m| rank(m).is_none()).map(|m| format!("module `{m}` has no layer in LAYERS")).collect();
    for (a, b) in edges {
        let (Some(ta), Some(tb)) = (a.first(), b.first()) else { continue };
        if ta == tb {
            continue;
        }
        if let (Some(ra), Some(rb)) = (rank(ta), rank(tb))
            && rb >= ra
        {
            out.push(format!("{} (layer {ra}) uses {} (layer {rb})", show(a), show(b)));
        }
    }
    out
}

#[test]
fn the_core_imports_one_way() {
    let krate = Crate::read(&Path::new(ROOT).join("src"));
    let edges = krate.edges();
    // The graph is read, not empty: the dispatcher reaches the flows and the agent.
    let path = |s: &str| s.split("::").map(str::to_owned).collect::<ModPath>();
    assert!(edges.contains(&(path("chat::core"), path("chat::plan_flow"))), "import graph not read");
    assert!(edges.contains(&(path("chat::core"), path("agent"))), "import graph not read");
    assert!(edges.contains(&(path("scheduler"), path("message"))), "re-exports not followed");
    let found = cycles(&edges);
    let shown: Vec<String> = found.iter().map(|c| c.iter().map(show).collect::<Vec<_>>().join(" ⇄ ")).collect();
    assert!(shown.is_empty(), "import cycles in the core:\n{}", shown.join("\n"));
    let modules: BTreeSet<String> =
        krate.files.keys().filter_map(|m| m.first().cloned()).filter(|m| m != "lib").collect();
    let violations = layer_violations(&edges, &modules);
    assert!(violations.is_empty(), "layer rules broken (docs/architecture.md):\n{}", violations.join("\n"));
}

#[test]
fn the_checker_finds_a_cycle_and_an_upward_import() {
    let sources: BTreeMap<String, String> = [
        ("lib.rs", "pub mod chat;\npub mod store;\npub mod message;\n"),
        ("message.rs", "pub struct Reply;\n"),
        ("chat/mod.rs", "mod core;\nmod flow;\npub use crate::message::*;\npub use core::BotCore;\n"),
        ("chat/core.rs", "use super::flow::Failure;\nuse super::Reply;\npub struct BotCore;\n"),
        ("chat/flow.rs", "pub enum Failure { A }\nfn f() { let _ = super::core::BotCore; }\n"),
        ("store/mod.rs", "use crate::chat::Reply;\nfn g() -> crate::chat::BotCore { todo!() }\n"),
    ]
    .into_iter()
    .map(|(p, t)| (p.to_owned(), t.to_owned()))
    .collect();
    let krate = Crate::from_sources(&sources);
    let edges = krate.edges();
    let path = |s: &str| s.split("::").map(str::to_owned).collect::<ModPath>();
    // `chat::Reply` is the message model's, through the glob re-export: no edge to chat.
    assert!(edges.contains(&(path("chat::core"), path("message"))));
    assert!(!edges.contains(&(path("chat::core"), path("chat"))));
    let found = cycles(&edges);
    assert_eq!(found, vec![vec![path("chat::core"), path("chat::flow")]]);
    let modules: BTreeSet<String> = ["chat", "store", "message", "newcomer"].into_iter().map(str::to_owned).collect();
    let violations = layer_violations(&edges, &modules);
    assert!(violations.contains(&"module `newcomer` has no layer in LAYERS".to_owned()), "{violations:?}");
    assert!(violations.contains(&"store (layer 1) uses chat::core (layer 5)".to_owned()), "{violations:?}");
    assert!(!violations.iter().any(|v| v.starts_with("store (layer 1) uses message")), "{violations:?}");
}

/// `cargo metadata`: each package's normal (non-dev, non-build) dependencies by name.
fn dependency_closure(metadata: &serde_json::Value, package: &str) -> BTreeSet<String> {
    let packages = metadata["packages"].as_array().expect("packages");
    let name_of = |id: &str| {
        packages.iter().find(|p| p["id"] == id).and_then(|p| p["name"].as_str()).unwrap_or_default().to_owned()
    };
    let nodes = metadata["resolve"]["nodes"].as_array().expect("resolve");
    let root = packages.iter().find(|p| p["name"] == package).and_then(|p| p["id"].as_str()).expect("package");
    let mut seen = BTreeSet::new();
    let mut stack = vec![root.to_owned()];
    while let Some(id) = stack.pop() {
        let Some(node) = nodes.iter().find(|n| n["id"] == id.as_str()) else { continue };
        for dep in node["deps"].as_array().into_iter().flatten() {
            let normal = dep["dep_kinds"].as_array().into_iter().flatten().any(|k| k["kind"].is_null());
            let Some(dep_id) = dep["pkg"].as_str() else { continue };
            if normal && seen.insert(dep_id.to_owned()) {
                stack.push(dep_id.to_owned());
            }
        }
    }
    seen.iter().map(|id| name_of(id)).collect()
}

/// The workspace's resolved dependencies on this machine's platform (whose crates the build
/// already downloaded: no network needed).
fn metadata() -> serde_json::Value {
    let rustc = std::process::Command::new("rustc").arg("-vV").output().expect("run rustc -vV");
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .expect("rustc host");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline", "--filter-platform", &host])
        .arg("--manifest-path")
        .arg(Path::new(ROOT).join("Cargo.toml"))
        .output()
        .expect("run cargo metadata");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("cargo metadata JSON")
}

#[test]
fn crates_depend_the_right_way() {
    let metadata = metadata();
    let pure = dependency_closure(&metadata, "runcoach-pure");
    assert!(pure.contains("fitparser") && pure.contains("chrono"), "closure not read: {pure:?}");
    let io: Vec<&&str> = IO_CRATES.iter().filter(|c| pure.contains(**c)).collect();
    assert!(io.is_empty(), "runcoach-pure must do no I/O, yet depends on {io:?}");

    let core = dependency_closure(&metadata, "runcoach-core");
    assert!(core.contains("runcoach-pure") && core.contains("sqlx"), "closure not read: {core:?}");
    let outward: Vec<&&str> = ADAPTERS.iter().chain(PLATFORM_CRATES).filter(|c| core.contains(**c)).collect();
    assert!(outward.is_empty(), "the core must not depend on adapters or platforms, yet depends on {outward:?}");

    for adapter in ADAPTERS {
        let deps = dependency_closure(&metadata, adapter);
        assert!(deps.contains("runcoach-core"), "{adapter}: closure not read");
        let others: Vec<&&str> = ADAPTERS.iter().filter(|a| *a != adapter && deps.contains(**a)).collect();
        assert!(others.is_empty(), "{adapter} depends on {others:?}: only bots/runcoach wires adapters together");
    }
}

#[test]
fn adapters_reach_neither_the_store_nor_the_scheduler() {
    // The core's services an adapter must go through the chat for (`BotCore`, the message model).
    let forbidden = [
        "runcoach_core::store",
        "runcoach_core::scheduler",
        "runcoach_core::history",
        "runcoach_core::plans",
        ".store()",
        "sqlx::",
    ];
    let mut found = Vec::new();
    let mut read = 0;
    for adapter in ["telegram", "discord", "http", "console"] {
        let dir = Path::new(ROOT).join("bots").join(adapter).join("src");
        for entry in std::fs::read_dir(&dir).expect("adapter src") {
            let path = entry.expect("dir entry").path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            read += 1;
            let code = code_only(&std::fs::read_to_string(&path).expect("read adapter source"));
            for f in forbidden {
                if code.contains(f) {
                    found.push(format!("{}: {f}", path.display()));
                }
            }
        }
    }
    assert!(read >= 4, "adapter sources not found");
    assert!(found.is_empty(), "adapters reach past the chat:\n{}", found.join("\n"));
}
