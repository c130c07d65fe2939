//! Reading manifests: files of multi-document YAML, JSON, or `kind: List`, each object with the
//! file and line it came from, and errors that name them. The fleet directory loader and the
//! offline CLI (`check`, `explain`) share these readers.
//!
//! YAML is read by [`crate::yaml`] (serde-saphyr), one document at a time: [`documents`] splits a
//! file on its `---` lines itself, because serde-saphyr's multi-document reader (`from_multiple`)
//! returns the documents' values only, leaving out empty ones and saying nothing of the line each
//! starts on, and that line is how every object read here is reported (`check`, `explain`,
//! messages). Each document is parsed with its first line, so parse errors carry the file's line.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::yaml;

/// A fleet directory or manifest that could not be read; the message names the file and line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LoadError(pub String);

/// One object read from a manifest, with where it came from.
#[derive(Debug, Clone)]
pub struct Located {
    /// The object.
    pub value: Value,
    /// The file it was read from.
    pub file: String,
    /// The line its document starts on (1-based).
    pub line: usize,
}

impl Located {
    /// `file:line`.
    pub fn origin(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// `kind`, if a string.
    pub fn kind(&self) -> &str {
        self.value.get("kind").and_then(Value::as_str).unwrap_or_default()
    }

    /// `apiVersion`, if a string.
    pub fn api_version(&self) -> &str {
        self.value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// Deserialises the object as `T`; the error names the file, line and field path.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, LoadError> {
        serde_path_to_error::deserialize(&self.value).map_err(|e| {
            let path = e.path().to_string();
            let at = if path == "." {
                String::new()
            } else {
                format!(" at {path}")
            };
            LoadError(format!(
                "{}: {} is not valid{at}: {}",
                self.origin(),
                self.describe(),
                e.inner()
            ))
        })
    }

    /// `PropagationPolicy default/web`, for messages.
    pub fn describe(&self) -> String {
        let meta = &self.value["metadata"];
        let name = meta["name"].as_str().unwrap_or("<no name>");
        match meta["namespace"].as_str() {
            Some(ns) if !ns.is_empty() => format!("{} {ns}/{name}", self.kind()),
            _ => format!("{} {name}", self.kind()),
        }
    }
}

/// Parses every object in `text` (multi-document YAML, JSON, or `kind: List`).
pub fn parse_objects(text: &str, file: &str) -> Result<Vec<Located>, LoadError> {
    let mut out = Vec::new();
    for (start, body) in documents(text) {
        let value: Value = yaml::from_str_at(&body, start).map_err(|e| {
            let line = e.line.map_or(start, |l| usize::try_from(l).unwrap_or(start));
            LoadError(format!("{file}:{line}: not valid YAML/JSON: {e}"))
        })?;
        push_object(value, file, start, &mut out)?;
    }
    Ok(out)
}

/// The documents of a YAML stream, split on `---` lines, each with the line it starts on (the
/// line after its `---`, 1-based). Documents holding only blank lines and comments are left out.
/// What follows `--- ` on a separator line (usually a comment) is ignored.
pub fn documents(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut start = 1;
    let mut doc = String::new();
    let mut flush = |doc: &mut String, start: usize| {
        let body = std::mem::take(doc);
        if !body
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        {
            out.push((start, body));
        }
    };
    for (i, line) in text.lines().enumerate() {
        if line == "---" || line.starts_with("--- ") || line.starts_with("---\t") {
            flush(&mut doc, start);
            start = i + 2;
            continue;
        }
        doc.push_str(line);
        doc.push('\n');
    }
    flush(&mut doc, start);
    out
}

fn push_object(value: Value, file: &str, line: usize, out: &mut Vec<Located>) -> Result<(), LoadError> {
    match value {
        Value::Null => Ok(()),
        Value::Array(items) => items
            .into_iter()
            .try_for_each(|v| push_object(v, file, line, out)),
        Value::Object(ref map) if map.get("kind").and_then(Value::as_str) == Some("List") => {
            let items = map
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            items
                .into_iter()
                .try_for_each(|v| push_object(v, file, line, out))
        }
        Value::Object(ref map) => {
            for field in ["apiVersion", "kind"] {
                if !map.get(field).is_some_and(Value::is_string) {
                    return Err(LoadError(format!(
                        "{file}:{line}: object has no {field}: every object needs apiVersion and kind"
                    )));
                }
            }
            if !map
                .get("metadata")
                .and_then(|m| m.get("name"))
                .is_some_and(Value::is_string)
            {
                return Err(LoadError(format!("{file}:{line}: object has no metadata.name")));
            }
            out.push(Located {
                value,
                file: file.to_owned(),
                line,
            });
            Ok(())
        }
        other => Err(LoadError(format!(
            "{file}:{line}: expected an object, found {}",
            json_type(&other)
        ))),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Reads one file of objects.
pub fn read_file(path: &Path) -> Result<Vec<Located>, LoadError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| LoadError(format!("{}: cannot read: {e}", path.display())))?;
    parse_objects(&text, &path.display().to_string())
}

/// Whether a file name is a manifest (`*.yaml`, `*.yml`, `*.json`).
pub fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// The manifest files under `path` (itself if a file; sorted, recursively if a directory).
pub fn manifest_files(path: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let meta =
        std::fs::metadata(path).map_err(|e| LoadError(format!("{}: cannot read: {e}", path.display())))?;
    if meta.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(path).map_err(|e| LoadError(format!("{}: cannot list: {e}", path.display())))?;
    for entry in entries {
        let entry = entry.map_err(|e| LoadError(format!("{}: cannot list: {e}", path.display())))?;
        let p = entry.path();
        if p.is_dir() {
            out.extend(manifest_files(&p)?);
        } else if is_manifest(&p) {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// Reads every object of every manifest under each path.
pub fn read_paths(paths: &[PathBuf]) -> Result<Vec<Located>, LoadError> {
    let mut out = Vec::new();
    for path in paths {
        for file in manifest_files(path)? {
            out.extend(read_file(&file)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::karmada::Policy;

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";

    #[test]
    fn documents_report_their_own_line() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n";
        let err = parse_objects(text, "x.yaml").unwrap_err().to_string();
        // Inside the second document, not the first: the `[` that is never closed, on line 8.
        // (serde_yaml reported line 9, the end of the file, where it gave up looking for the `]`.)
        assert!(err.starts_with("x.yaml:8:"), "{err}");
        assert!(err.ends_with("at line 8, column 9"), "{err}");
    }

    /// Errors in any document name the line of the file, whatever came before it.
    #[rstest::rstest]
    #[case::first_document("apiVersion: v1\nkind: ConfigMap\n  metadata: {}\n", 3)]
    #[case::second_document(&format!("{CM}---\napiVersion: v1\nkind: [ConfigMap\n"), 6)]
    #[case::third_document(&format!("{CM}---\n{CM}---\napiVersion: v1\nkind: a\n  b: c\n"), 11)]
    #[case::after_a_comment_only_document(&format!("{CM}---\n# nothing\n\n---\nkind: a\n  b: c\n"), 9)]
    #[case::after_a_separator_with_a_comment(&format!("# head\n{CM}--- # next\n\nkind: a\n  b: c\n"), 8)]
    #[case::json_after_yaml(&format!("{CM}---\n{{\"apiVersion\": \"v1\",\n \"kind\" \"Secret\"}}\n"), 6)]
    fn an_error_in_a_later_document_names_its_own_line(#[case] text: &str, #[case] line: u32) {
        let err = parse_objects(text, "x.yaml").unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("x.yaml:{line}: not valid YAML/JSON: ")),
            "{err}"
        );
        assert!(err.contains(&format!("at line {line}, column ")), "{err}");
    }

    #[test]
    fn documents_start_after_their_separator() {
        let text = format!("# head\n{CM}---\n# nothing\n---\n\n{CM}--- # c\n{CM}");
        let starts: Vec<usize> = documents(&text).iter().map(|(line, _)| *line).collect();
        assert_eq!(starts, [1, 8, 13]);
        let objs = parse_objects(&text, "x.yaml").unwrap();
        assert_eq!(objs.iter().map(|o| o.line).collect::<Vec<_>>(), [1, 8, 13]);
    }

    #[test]
    fn lists_json_and_empty_documents_are_read() {
        let text = "---\n# comment only\n---\n{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"s\"}}]}\n";
        let objs = parse_objects(text, "x.json").unwrap();
        assert_eq!(objs.len(), 1);
        assert_eq!(objs[0].line, 4);
        assert_eq!(objs[0].kind(), "Secret");
    }

    #[test]
    fn typed_errors_name_file_line_and_field() {
        let text = "apiVersion: policy.karmada.io/v1alpha1\nkind: PropagationPolicy\nmetadata: {name: p, namespace: d}\nspec:\n  resourceSelectors:\n  - kind: Deployment\n";
        let objs = parse_objects(text, "p.yaml").unwrap();
        let err = objs[0].parse::<Policy>().unwrap_err().to_string();
        assert!(err.contains("p.yaml:1"), "{err}");
        assert!(err.contains("spec.resourceSelectors[0]"), "{err}");
        assert!(err.contains("apiVersion"), "{err}");
    }

    #[test]
    fn objects_without_kind_or_name_are_rejected() {
        let err = parse_objects("metadata: {name: a}\n", "f.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no apiVersion"), "{err}");
        let err = parse_objects("apiVersion: v1\nkind: Secret\n", "f.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("metadata.name"), "{err}");
    }
}
