//! The CLI's output when stdout goes away, through the real binary: a reader that closes the pipe
//! early gets a quiet exit 141 (as if by SIGPIPE), a full disk gets a message and exit code 2;
//! never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers of tests: a panic is a failing test

use std::{
    fmt::Write as _,
    io::{BufRead, BufReader},
    os::{fd::OwnedFd, unix::net::UnixStream},
    process::{Command, Stdio},
};

fn binary() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_karmada-takeover"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars() {
        if key.starts_with("KARMADA_TAKEOVER_") {
            command.env_remove(key);
        }
    }
    command
}

/// A manifest with `n` Deployments: `check -o json` prints far more than a pipe holds (64 KiB).
fn many_deployments(n: usize) -> tempfile::NamedTempFile {
    let mut text = String::new();
    for i in 0..n {
        let _ = write!(
            text,
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web-{i}, namespace: shop}}\n\
             spec: {{selector: {{matchLabels: {{app: web}}}}, template: {{metadata: {{labels: {{app: web}}}}, \
             spec: {{containers: [{{name: web, image: nginx}}]}}}}}}\n"
        );
    }
    let file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    std::fs::write(file.path(), text).unwrap();
    file
}

/// A stdout whose reader is already gone: a socket whose peer is closed, so the first write
/// fails with `EPIPE` whatever the timing (a pipe's read end can only be closed after spawning).
fn closed_stdout() -> Stdio {
    let (ours, theirs) = UnixStream::pair().unwrap();
    drop(ours);
    Stdio::from(OwnedFd::from(theirs))
}

fn assert_quiet_broken_pipe(output: &std::process::Output, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(141), "{what}: {stderr}");
    assert!(stderr.is_empty(), "{what}: nothing on stderr, got {stderr}");
}

#[test]
fn demo_into_a_pipe_closed_before_the_first_line_exits_quietly() {
    let output = binary().arg("demo").stdout(closed_stdout()).output().unwrap();
    assert_quiet_broken_pipe(&output, "demo | (closed)");
}

#[test]
fn check_json_read_one_line_then_closed_exits_quietly() {
    let manifests = many_deployments(600);
    let mut child = binary()
        .args(["check", "-o", "json", "-f"])
        .arg(manifests.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -1`: one line, then the read end closes while the writer is still writing.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "{\n");
    let output = child.wait_with_output().unwrap();
    assert_quiet_broken_pipe(&output, "check -o json | head -1");
}

#[test]
fn explain_and_check_into_a_closed_pipe_exit_quietly() {
    for args in [
        &["check", "-f", "examples/manifests"][..],
        &[
            "explain",
            "--resource",
            "examples/manifests/takeover-frontend.yaml",
            "--policies",
            "examples/fleet/karmada",
        ],
    ] {
        let output = binary().args(args).stdout(closed_stdout()).output().unwrap();
        assert_quiet_broken_pipe(&output, &args.join(" "));
    }
}

#[test]
fn a_full_disk_is_an_error_message_and_exit_code_2() {
    let manifests = many_deployments(600);
    for args in [
        vec!["demo".to_owned()],
        vec![
            "check".to_owned(),
            "-o".to_owned(),
            "json".to_owned(),
            "-f".to_owned(),
            manifests.path().display().to_string(),
        ],
    ] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let output = binary().args(&args).stdout(full).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?} > /dev/full: {stderr}");
        assert!(
            stderr.starts_with("error: cannot write to standard output: No space left on device"),
            "{args:?} > /dev/full: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn an_error_with_stderr_full_still_exits_2_without_a_panic() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let output = binary()
        .args(["check", "--fleet", "/nowhere/fleet", "-f", "examples/manifests"])
        .stdout(Stdio::null())
        .stderr(full)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
