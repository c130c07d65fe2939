//! `karmada-takeover deps`: the dependencies Karmada's default resource interpreter reports for
//! each object, the ones `propagateDeps: true` carries along ([`crate::rules::dependencies`]).

use std::{fmt::Write as _, path::PathBuf, process::ExitCode};

use anyhow::bail;
use serde::Serialize;

use super::{Output, output};
use crate::{
    fleet::files::{self, Located},
    rules::dependencies::{self, Dependency, Object},
};

/// Options of `deps`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
JSON output (-o json), on one line:
  one object in total:  {\"dependencies\": [DEP, ...]}
  several objects:      [{\"apiVersion\", \"kind\", \"namespace\", \"name\", \"dependencies\": [DEP, ...]}, ...]
                        in the order they were read
  DEP is Karmada's DependentObjectReference: {\"apiVersion\", \"kind\", \"namespace\", \"name\"}, or
  {\"apiVersion\", \"kind\", \"namespace\", \"labelSelector\": {\"matchLabels\": {...}}} for the EndpointSlices
  of a ServiceImport; an empty namespace or name is left out, as Karmada leaves it out. Sorted by
  apiVersion, kind, namespace, name.

Kinds without a default handler have no dependencies (an empty list). Exit code 2 when a file
cannot be read, or when Karmada's interpreter would fail on an object (a field of the wrong type,
an Ingress TLS entry without secretName).")]
pub struct DepsArgs {
    /// Manifests: files or directories (every *.yaml, *.yml, *.json inside; YAML with `---`
    /// documents, JSON, `kind: List`).
    #[arg(
        long,
        short = 'r',
        visible_short_alias = 'f',
        visible_alias = "filename",
        value_name = "FILE",
        num_args = 1..,
        required = true
    )]
    pub resource: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// One object and its dependencies, in JSON output for several objects.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Found<'a> {
    api_version: &'a str,
    kind: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    namespace: &'a str,
    name: &'a str,
    dependencies: Vec<Dependency>,
    #[serde(skip)]
    located: &'a Located,
}

/// The dependencies of each object, in input order; the error names the file, line and object.
fn interpret(objects: &[Located]) -> anyhow::Result<Vec<Found<'_>>> {
    let mut out = Vec::new();
    for located in objects {
        let found =
            Object::from_manifest(&located.value).and_then(|o| Ok((o, dependencies::dependencies(&o)?)));
        match found {
            Ok((o, deps)) => out.push(Found {
                api_version: o.api_version,
                kind: o.kind,
                namespace: o.namespace,
                name: o.name,
                dependencies: deps,
                located,
            }),
            Err(e) => bail!("{}: {}: {e}", located.origin(), located.describe()),
        }
    }
    Ok(out)
}

/// Runs `deps`.
pub fn run(args: DepsArgs) -> anyhow::Result<ExitCode> {
    let objects = files::read_paths(&args.resource)?;
    if objects.is_empty() {
        let given: Vec<String> = args.resource.iter().map(|p| p.display().to_string()).collect();
        bail!(
            "--resource {}: no object found: give manifests with apiVersion, kind and metadata.name",
            given.join(" ")
        );
    }
    let found = interpret(&objects)?;
    match args.output {
        Output::Json => output::print(json(&found)? + "\n")?,
        Output::Text => output::print(text(&found))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `{"dependencies": [...]}` for one object, keys in Karmada's order.
#[derive(Debug, Serialize)]
struct One<'a> {
    dependencies: &'a [Dependency],
}

fn json(found: &[Found<'_>]) -> serde_json::Result<String> {
    match found {
        [one] => serde_json::to_string(&One {
            dependencies: &one.dependencies,
        }),
        several => serde_json::to_string(several),
    }
}

/// `ConfigMap shop/web-config`; `EndpointSlice shop labelled kubernetes.io/service-name=derived-x`.
fn shown(d: &Dependency) -> String {
    let mut out = format!("{} ", d.kind.as_str());
    match &d.match_labels {
        Some(labels) => {
            let selector: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let _ = write!(out, "{} labelled {}", d.namespace, selector.join(","));
        }
        None if d.namespace.is_empty() => out.push_str(&d.name),
        None => {
            let _ = write!(out, "{}/{}", d.namespace, d.name);
        }
    }
    out
}

/// A table: each object, then its dependencies, one a line.
fn text(found: &[Found<'_>]) -> String {
    let objects: Vec<String> = found
        .iter()
        .map(|f| format!("{} ({})", f.located.describe(), f.located.origin()))
        .collect();
    let width = objects
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(0)
        .max("OBJECT".len());
    let mut out = format!("{:<width$}  DEPENDENCY\n", "OBJECT");
    for (f, object) in found.iter().zip(&objects) {
        let mut first = object.as_str();
        if f.dependencies.is_empty() {
            let why = if dependencies::handles(f.api_version, f.kind) {
                "none".to_owned()
            } else {
                format!(
                    "none (Karmada's default interpreter has no dependencies handler for {} {})",
                    f.api_version, f.kind
                )
            };
            let _ = writeln!(out, "{first:<width$}  {why}");
        }
        for d in &f.dependencies {
            let _ = writeln!(out, "{first:<width$}  {}", shown(d));
            first = "";
        }
    }
    out
}
