//! The architecture, checked: the crate's top-level modules form layers that point one way, and
//! no source file grows into a room that holds everything.
//!
//! Layers, bottom up (a module may import its own layer or a lower one, never a higher one):
//!
//! | layer | modules | what they are |
//! |---|---|---|
//! | 0 domain | `karmada`, `kube`, `config`, `poll`, `telemetry`, `yaml`, `memory` | Karmada's types, keys and rules; the config; plumbing with no knowledge of the rest |
//! | 1 engine | `rules` | pure decisions; reads the fleet through `rules::view::FleetView` |
//! | 2 adapters | `fleet`, `writer`, `reconciler`, `metrics` | the fleet view and what fills it, the policy writers, the reconciler, the metrics registry |
//! | 3 protocol | `admission`, `tls` | AdmissionReview in and out; certificates |
//! | 4 serving | `server` | HTTPS and admin listeners |
//! | 5 entry points | `cli`, `lib`, `main` | subcommands |
//!
//! Within a layer, modules must not import each other in a cycle. Test code (`#[cfg(test)]`
//! items, `tests.rs`, `testing.rs`) may reach up: a test builds its fixtures with whatever it
//! needs.

#![allow(clippy::unwrap_used)]

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// The layer of each top-level module.
const LAYERS: &[(&str, u8)] = &[
    ("karmada", 0),
    ("kube", 0),
    ("config", 0),
    ("poll", 0),
    ("telemetry", 0),
    ("yaml", 0),
    ("memory", 0),
    ("rules", 1),
    ("fleet", 2),
    ("writer", 2),
    ("reconciler", 2),
    ("metrics", 2),
    ("admission", 3),
    ("tls", 3),
    ("server", 4),
    ("cli", 5),
    ("lib", 5),
    ("main", 5),
];

/// Longest a non-test source file may be. Past it, a file holds more than one thing.
const MAX_LINES: usize = 600;

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file without its test code: a `#[cfg(test)] mod x;` line is dropped, a `#[cfg(test)]`
/// item with a body ends the file (test modules come last).
fn non_test_part(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            match lines.peek() {
                Some(next) if next.trim_end().ends_with(';') => {
                    lines.next();
                    continue;
                }
                _ => break,
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules a piece of code names through `crate::`: paths (`crate::fleet::Fleet`)
/// and braced imports (`use crate::{fleet::Fleet, karmada};`).
fn crate_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut at_item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_item_start = true,
                    c if c.is_whitespace() => {}
                    _ if at_item_start && depth == 0 => {
                        at_item_start = false;
                        let name = ident_at(&group[i..]);
                        if !name.is_empty() {
                            found.insert(name.to_owned());
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident_at(rest);
            if !name.is_empty() {
                found.insert(name.to_owned());
            }
        }
    }
    found
}

/// Top-level module → the modules it imports.
type Imports = BTreeMap<String, BTreeSet<String>>;

/// What each top-level module imports, over the non-test code of `src/`, and each non-test
/// file's line count.
fn read_crate() -> (Imports, Vec<(String, usize)>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut imports = Imports::new();
    let mut sizes = Vec::new();
    for path in files {
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let file_name = path.file_name().unwrap().to_string_lossy();
        if file_name == "tests.rs" || file_name == "testing.rs" || rel.contains("/tests/") {
            continue;
        }
        let top = rel.split('/').next().unwrap().trim_end_matches(".rs").to_owned();
        let code = non_test_part(&fs::read_to_string(&path).unwrap());
        sizes.push((rel, code.lines().count()));
        let used = crate_modules(&code);
        let entry = imports.entry(top.clone()).or_default();
        entry.extend(used.into_iter().filter(|m| *m != top));
    }
    (imports, sizes)
}

#[test]
fn every_module_has_a_layer_and_imports_point_down() {
    let (imports, _) = read_crate();
    let mut problems = Vec::new();
    for (module, used) in &imports {
        let Some(own) = layer(module) else {
            problems.push(format!(
                "src/{module} has no layer: add it to LAYERS in tests/layers.rs"
            ));
            continue;
        };
        for other in used {
            match layer(other) {
                None => problems.push(format!("{module} imports crate::{other}, which has no layer")),
                Some(l) if l > own => problems.push(format!(
                    "{module} (layer {own}) imports crate::{other} (layer {l}): a lower layer must not know a higher one"
                )),
                Some(_) => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn top_level_modules_import_each_other_in_no_cycle() {
    let (imports, _) = read_crate();
    // Depth-first search for a back edge; reports the cycle's path.
    fn visit<'a>(
        node: &'a str,
        imports: &'a Imports,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<String> {
        if let Some(i) = path.iter().position(|n| *n == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node);
            return Some(cycle.join(" -> "));
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for next in imports.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, imports, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for module in imports.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(module, &imports, &mut path, &mut done) {
            panic!("import cycle between top-level modules: {cycle}");
        }
    }
}

#[test]
fn no_source_file_holds_more_than_one_room() {
    let (_, sizes) = read_crate();
    let big: Vec<String> = sizes
        .into_iter()
        .filter(|(_, lines)| *lines > MAX_LINES)
        .map(|(file, lines)| format!("src/{file}: {lines} lines of non-test code (at most {MAX_LINES})"))
        .collect();
    assert!(big.is_empty(), "split these files:\n{}", big.join("\n"));
}

#[test]
fn the_import_reader_sees_paths_and_braced_groups() {
    let code = "use crate::{\n    fleet::{Fleet, files},\n    karmada::{self, keys},\n};\nfn f() { crate::rules::decide(); }\n";
    assert_eq!(
        crate_modules(code).into_iter().collect::<Vec<_>>(),
        ["fleet", "karmada", "rules"]
    );
    let text =
        "use x;\n#[cfg(test)]\nmod tests;\nuse crate::a;\n#[cfg(test)]\nmod tests {\n use crate::b;\n}\n";
    assert_eq!(
        crate_modules(&non_test_part(text))
            .into_iter()
            .collect::<Vec<_>>(),
        ["a"]
    );
}
