//! The config and fleet-directory pollers, and `karmada-takeover serve` as a process.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use arc_swap::ArcSwap;
use karmada_takeover::{
    config::Config,
    fleet::{Fleet, SharedFleet},
    metrics::Metrics,
};
use support::{
    metrics_text,
    server::{admin_client, write_certs},
    wait::{WAIT, eventually, within},
    write,
};

fn counter(metrics: &Metrics, family: &str, result: &str) -> String {
    let text = metrics_text(metrics);
    let prefix = format!("karmada_takeover_{family}{{result=\"{result}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
        .unwrap_or_else(|| "0".into())
}

#[tokio::test]
async fn a_bad_config_file_keeps_the_previous_config_and_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    write(&path, "preemptionGate: false\n");
    let config = Arc::new(ArcSwap::from_pointee(Config::load(&path).unwrap()));
    let metrics = Arc::new(Metrics::new().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let watcher = tokio::spawn(karmada_takeover::config::reload::watch_config(
        path.clone(),
        Duration::from_millis(20),
        config.clone(),
        metrics.config_reloads_total.clone(),
        async move {
            let _ = stopped.await;
        },
    ));

    write(&path, "preemptionGate: true\n");
    eventually(WAIT, "config reloaded", || config.load().preemption_gate).await;
    assert_eq!(counter(&metrics, "config_reloads_total", "ok"), "1");

    write(&path, "preemptionGate: [not, a, bool]\n");
    eventually(WAIT, "bad config counted", || {
        counter(&metrics, "config_reloads_total", "error") == "1"
    })
    .await;
    assert!(config.load().preemption_gate, "the previous config stays");

    let _ = stop.send(());
    within(WAIT, "watcher stops", watcher).await.unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn the_fleet_directory_is_reloaded_on_change_and_a_broken_one_keeps_the_previous_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let fleet_dir = dir.path().join("fleet");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet"),
        &fleet_dir,
    );
    let fleet = SharedFleet::new(karmada_takeover::fleet::files::load_dir(&fleet_dir).unwrap());
    let clusters_before = fleet.read().counts().clusters;
    let metrics = Arc::new(Metrics::new().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let watcher = tokio::spawn(karmada_takeover::fleet::files::reload::watch_fleet_dir(
        fleet_dir.clone(),
        Duration::from_millis(20),
        fleet.clone(),
        metrics.clone(),
        async move {
            let _ = stopped.await;
        },
    ));

    let clusters = fleet_dir.join("clusters.yaml");
    let original = std::fs::read_to_string(&clusters).unwrap();
    write(
        &clusters,
        &format!("{original}\n  - name: member9\n    labels: {{}}\n    ready: true\n"),
    );
    eventually(WAIT, "fleet reloaded", || {
        fleet.read().counts().clusters == clusters_before + 1
    })
    .await;
    assert_eq!(counter(&metrics, "fleet_reloads_total", "ok"), "1");
    let gauge = format!(
        "karmada_takeover_fleet_objects{{type=\"clusters\"}} {}",
        clusters_before + 1
    );
    assert!(metrics_text(&metrics).contains(&gauge), "{gauge}");

    write(&clusters, "clusters: [this is: not valid\n");
    eventually(WAIT, "broken fleet counted", || {
        counter(&metrics, "fleet_reloads_total", "error") == "1"
    })
    .await;
    assert_eq!(
        fleet.read().counts().clusters,
        clusters_before + 1,
        "the previous fleet stays"
    );
    assert!(fleet.read().is_synced());

    let _ = stop.send(());
    within(WAIT, "watcher stops", watcher).await.unwrap();
    let _ = Fleet::new();
}

fn serve_command(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_karmada-takeover"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .arg("--tls-cert")
        .arg(dir.join("tls.crt"))
        .arg("--tls-key")
        .arg(dir.join("tls.key"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars() {
        if key.starts_with("KARMADA_TAKEOVER_") {
            command.env_remove(key);
        }
    }
    command
}

#[test]
fn serve_refuses_bad_flags_with_a_message_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let certs = karmada_takeover::tls::dev::throwaway_ca_and_cert(&["localhost"]).unwrap();
    write_certs(dir.path(), &certs);

    let output = serve_command(dir.path())
        .args(["--kubeconfig", "/nowhere/kubeconfig"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--kubeconfig /nowhere/kubeconfig"), "{stderr}");

    let output = serve_command(dir.path())
        .args(["--fleet", "/nowhere/fleet"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--fleet /nowhere/fleet"), "{stderr}");

    write(&dir.path().join("tls.key"), "not a key\n");
    let output = serve_command(dir.path()).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--tls-key") && stderr.contains("no private key"),
        "{stderr}"
    );
}

/// `serve` startup errors name the flag and print each cause once (anyhow prints an error's
/// chain, and several errors also put their cause in their own message).
#[test]
fn serve_prints_each_cause_of_a_startup_error_once() {
    let dir = tempfile::tempdir().unwrap();
    let certs = karmada_takeover::tls::dev::throwaway_ca_and_cert(&["localhost"]).unwrap();
    write_certs(dir.path(), &certs);
    let once = |output: std::process::Output, needles: &[&str]| {
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        for needle in needles {
            assert_eq!(stderr.matches(needle).count(), 1, "{needle:?} once in {stderr}");
        }
    };
    let missing = "No such file or directory (os error 2)";
    once(
        serve_command(dir.path())
            .args(["--fleet", "/nowhere/fleet"])
            .output()
            .unwrap(),
        &["--fleet /nowhere/fleet", missing],
    );
    once(
        serve_command(dir.path())
            .args(["--config", "/nowhere/config.yaml"])
            .output()
            .unwrap(),
        &[missing],
    );
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let mut listen = Command::new(env!("CARGO_BIN_EXE_karmada-takeover"));
    listen
        .args(["serve", "--listen", &address, "--admin-listen", "127.0.0.1:0"])
        .arg("--tls-cert")
        .arg(dir.path().join("tls.crt"))
        .arg("--tls-key")
        .arg(dir.path().join("tls.key"))
        .env_remove("KARMADA_TAKEOVER_LISTEN")
        .env_remove("KARMADA_TAKEOVER_ADMIN_LISTEN");
    once(
        listen.output().unwrap(),
        &[&format!("--listen {address}"), "(os error 98)"],
    );
    std::fs::remove_file(dir.path().join("tls.crt")).unwrap();
    once(
        serve_command(dir.path()).output().unwrap(),
        &["--tls-cert", missing],
    );
}

#[test]
fn serve_becomes_ready_quickly_and_exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let certs = karmada_takeover::tls::dev::throwaway_ca_and_cert(&["localhost"]).unwrap();
    write_certs(dir.path(), &certs);
    let started = Instant::now();
    let mut child = serve_command(dir.path())
        .args(["--fleet", "examples/fleet"])
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let ready_line = loop {
        let line = lines_rx.recv_timeout(WAIT).expect("serve logs a ready line");
        if line.contains("serving admission webhooks") {
            break line;
        }
    };
    let admin = ready_line
        .split("admin=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let ready_after = started.elapsed();

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut client = admin_client(admin.parse().unwrap()).await;
        let (status, _) = client.get("/readyz").await.unwrap();
        assert_eq!(status, http::StatusCode::OK);
    });
    eprintln!("serve ready after {ready_after:?} (process spawn included)");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut exited = None;
    rt.block_on(eventually(WAIT, "serve exits after SIGTERM", || {
        exited = child.try_wait().unwrap();
        exited.is_some()
    }));
    let status = exited.unwrap();
    assert!(status.success(), "{status:?}");
    let rest: Vec<String> = lines_rx.try_iter().collect();
    assert!(rest.iter().any(|l| l.contains("SIGTERM")), "{rest:?}");
}
