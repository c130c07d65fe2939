//! A small, faithful fake Kubernetes API server for kube-rs client tests: real HTTP/1.1 on
//! `127.0.0.1:0`, JSON bodies, in-memory stores.
//!
//! What it speaks (enough for the Karmada adapter, the writer and the reconciler):
//! - GET (one object or a list; `labelSelector` with `k=v` terms), with a list `resourceVersion`;
//! - metadata-only responses when the client asks for `as=PartialObjectMetadata[List]`;
//! - `?watch=true` streams of JSON lines replayed from `resourceVersion`, `BOOKMARK` events when
//!   `allowWatchBookmarks=true`, `ERROR` 410 (Expired) for a compacted resourceVersion or when a
//!   test calls [`FakeApi::expire_watches`];
//! - POST (create, 409 AlreadyExists), PUT (replace, 409 Conflict on a stale resourceVersion),
//!   DELETE (with uid/resourceVersion preconditions), merge patch, and server-side apply
//!   (`application/apply-patch+yaml`): create-or-merge, JSON patch (`application/json-patch+json`), `managedFields` per field manager, labels
//!   and finalizers a manager applied before and no longer applies are removed (the SSA rule that
//!   makes keeping Karmada's labels matter);
//! - Karmada's PropagationPolicy webhook on create: label `…/permanent-id` (random) + finalizer;
//! - the cluster proxy `/apis/cluster.karmada.io/v1alpha1/clusters/<name>/proxy/...`, mapped to one
//!   store per member cluster;
//! - faults: every request (or every write after the first n) failing with a status, requests
//!   stalling, and a request log.
//!
//! Simplifications: objects are deleted at once (finalizers are not honoured); SSA owns label keys
//! and finalizers, and replaces `spec` wholesale.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    convert::Infallible,
    net::SocketAddr,
    sync::Arc,
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::{Method, Request, Response, StatusCode, body::Frame, service::service_fn};
use hyper_util::rt::TokioIo;
use karmada_takeover::fleet::watch::Connection;
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// One stored object set: `(namespace, name)` → object.
type Store = BTreeMap<(String, String), Value>;

/// (cluster, resource, namespace, name, field manager).
type OwnedKey = (String, String, String, String, String);

/// A stored change, for watch replay.
#[derive(Clone)]
struct Change {
    rv: u64,
    cluster: String,
    resource: String,
    kind: &'static str,
    object: Value,
}

struct WatchStream {
    cluster: String,
    resource: String,
    namespace: Option<String>,
    metadata_only: bool,
    bookmarks: bool,
    tx: mpsc::UnboundedSender<Bytes>,
}

/// One logged request.
#[derive(Debug, Clone)]
pub struct Logged {
    /// GET, POST, PUT, PATCH, DELETE.
    pub method: String,
    /// Path (with the proxy prefix, if any).
    pub path: String,
    /// Query string.
    pub query: String,
    /// Whether it was a watch.
    pub watch: bool,
}

impl Logged {
    /// Whether it changed something.
    pub fn is_write(&self) -> bool {
        self.method != "GET"
    }
}

#[derive(Default)]
struct State {
    rv: u64,
    /// Oldest resourceVersion a watch may resume from (older → 410 Gone).
    compacted: u64,
    /// cluster ("" = karmada-apiserver) → resource (`group/version/plural`) → store.
    stores: HashMap<String, HashMap<String, Store>>,
    members: HashSet<String>,
    history: Vec<Change>,
    watches: Vec<WatchStream>,
    /// (cluster, resource, ns, name, manager) → label keys / finalizers the manager applied.
    owned: HashMap<OwnedKey, (HashSet<String>, HashSet<String>)>,
    log: Vec<Logged>,
    fail_status: Option<u16>,
    /// `(n, code)`: the next `n` writes succeed, every write after them fails with `code`.
    fail_writes_after: Option<(usize, u16)>,
    next_uid: u64,
}

/// The fake API server. Dropping it stops accepting connections.
#[derive(Clone)]
pub struct FakeApi {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    state: Arc<Mutex<State>>,
    stall: Arc<watch::Sender<bool>>,
    _stop: Arc<tokio::task::JoinHandle<()>>,
}

fn kind_list_name(kind: &str) -> String {
    format!("{kind}List")
}

/// `/apis/<g>/<v>/...` or `/api/v1/...` → (resource `g/v/plural`, namespace, name, apiVersion).
fn parse_path(path: &str) -> Option<(String, Option<String>, Option<String>, String)> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match *segs.first()? {
        "api" => ("", *segs.get(1)?, &segs[2..]),
        "apis" => (*segs.get(1)?, *segs.get(2)?, &segs[3..]),
        _ => return None,
    };
    let (ns, plural, name) = if rest.first() == Some(&"namespaces") && rest.len() >= 3 {
        (
            Some(rest[1].to_owned()),
            rest[2],
            rest.get(3).map(|s| (*s).to_owned()),
        )
    } else {
        (None, *rest.first()?, rest.get(1).map(|s| (*s).to_owned()))
    };
    let api_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Some((format!("{group}/{version}/{plural}"), ns, name, api_version))
}

fn query_map(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason, "code": code})
}

fn respond(code: u16, body: &Value) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())).boxed_unsync())
        .unwrap()
}

fn meta_only(obj: &Value) -> Value {
    json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": obj["metadata"].clone()})
}

fn labels_match(obj: &Value, selector: Option<&String>) -> bool {
    let Some(selector) = selector.filter(|s| !s.is_empty()) else {
        return true;
    };
    selector.split(',').all(|term| match term.split_once('=') {
        Some((k, v)) => obj["metadata"]["labels"][k.trim_end_matches('=')].as_str() == Some(v),
        None => obj["metadata"]["labels"].get(term).is_some(),
    })
}

fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

impl State {
    fn bump(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    fn store(&mut self, cluster: &str, resource: &str) -> &mut Store {
        self.stores
            .entry(cluster.to_owned())
            .or_default()
            .entry(resource.to_owned())
            .or_default()
    }

    fn emit(&mut self, cluster: &str, resource: &str, kind: &'static str, object: &Value) {
        let rv = object["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(self.rv);
        self.history.push(Change {
            rv,
            cluster: cluster.to_owned(),
            resource: resource.to_owned(),
            kind,
            object: object.clone(),
        });
        let ns = object["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        self.watches.retain(|w| {
            if w.cluster != cluster || w.resource != resource {
                return !w.tx.is_closed();
            }
            if w.namespace.as_ref().is_some_and(|n| *n != ns) {
                return !w.tx.is_closed();
            }
            let obj = if w.metadata_only {
                meta_only(object)
            } else {
                object.clone()
            };
            w.tx.send(Bytes::from(format!("{}\n", json!({"type": kind, "object": obj}))))
                .is_ok()
        });
    }

    /// Karmada's PP/CPP mutating webhook on CREATE.
    fn karmada_webhook(resource: &str, obj: &mut Value, uid: u64) {
        let (label, finalizer) = match resource {
            "policy.karmada.io/v1alpha1/propagationpolicies" => (
                "propagationpolicy.karmada.io/permanent-id",
                "karmada.io/propagation-policy-controller",
            ),
            "policy.karmada.io/v1alpha1/clusterpropagationpolicies" => (
                "clusterpropagationpolicy.karmada.io/permanent-id",
                "karmada.io/cluster-propagation-policy-controller",
            ),
            _ => return,
        };
        let meta = &mut obj["metadata"];
        if !meta["labels"].is_object() {
            meta["labels"] = json!({});
        }
        meta["labels"][label] = json!(format!("0000-permanent-{uid}"));
        if !meta["finalizers"].is_array() {
            meta["finalizers"] = json!([]);
        }
        if let Some(f) = meta["finalizers"].as_array_mut() {
            f.push(json!(finalizer));
        }
    }

    /// Karmada's PP/CPP validating webhook on UPDATE: the permanent-id label is immutable.
    fn karmada_validate_update(resource: &str, old: &Value, new: &Value) -> Result<(), (u16, Value)> {
        let label = match resource {
            "policy.karmada.io/v1alpha1/propagationpolicies" => "propagationpolicy.karmada.io/permanent-id",
            "policy.karmada.io/v1alpha1/clusterpropagationpolicies" => {
                "clusterpropagationpolicy.karmada.io/permanent-id"
            }
            _ => return Ok(()),
        };
        if old["metadata"]["labels"][label] != new["metadata"]["labels"][label] {
            let msg = format!(
                "admission webhook \"validate-propagationpolicy.karmada.io\" denied the request: label {label} is immutable, it can only be set by the system during creation"
            );
            return Err((403, status(403, "Forbidden", &msg)));
        }
        Ok(())
    }

    fn create(
        &mut self,
        cluster: &str,
        resource: &str,
        ns: Option<&str>,
        mut obj: Value,
    ) -> Result<Value, (u16, Value)> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        if name.is_empty() {
            return Err((422, status(422, "Invalid", "metadata.name: Required value")));
        }
        let ns = ns.unwrap_or_default().to_owned();
        if self
            .store(cluster, resource)
            .contains_key(&(ns.clone(), name.clone()))
        {
            return Err((
                409,
                status(
                    409,
                    "AlreadyExists",
                    &format!("{resource} \"{name}\" already exists"),
                ),
            ));
        }
        self.next_uid += 1;
        let uid = self.next_uid;
        let rv = self.bump();
        if !ns.is_empty() {
            obj["metadata"]["namespace"] = json!(ns);
        }
        obj["metadata"]["uid"] = json!(format!("uid-{uid}"));
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        obj["metadata"]["generation"] = json!(1);
        obj["metadata"]["creationTimestamp"] = json!("2026-11-21T00:00:00Z");
        Self::karmada_webhook(resource, &mut obj, uid);
        self.store(cluster, resource).insert((ns, name), obj.clone());
        self.emit(cluster, resource, "ADDED", &obj);
        Ok(obj)
    }

    fn put(
        &mut self,
        cluster: &str,
        resource: &str,
        ns: &str,
        name: &str,
        mut obj: Value,
    ) -> Result<Value, (u16, Value)> {
        let key = (ns.to_owned(), name.to_owned());
        let Some(old) = self.store(cluster, resource).get(&key).cloned() else {
            return Err((
                404,
                status(404, "NotFound", &format!("{resource} \"{name}\" not found")),
            ));
        };
        if let Some(rv) = obj["metadata"]["resourceVersion"].as_str()
            && Some(rv) != old["metadata"]["resourceVersion"].as_str()
        {
            return Err((
                409,
                status(
                    409,
                    "Conflict",
                    "the object has been modified; please apply your changes to the latest version and try again",
                ),
            ));
        }
        Self::karmada_validate_update(resource, &old, &obj)?;
        let rv = self.bump();
        obj["metadata"]["uid"] = old["metadata"]["uid"].clone();
        obj["metadata"]["creationTimestamp"] = old["metadata"]["creationTimestamp"].clone();
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        if !ns.is_empty() {
            obj["metadata"]["namespace"] = json!(ns);
        }
        self.store(cluster, resource).insert(key, obj.clone());
        self.emit(cluster, resource, "MODIFIED", &obj);
        Ok(obj)
    }

    fn apply(
        &mut self,
        cluster: &str,
        resource: &str,
        ns: &str,
        name: &str,
        manager: &str,
        applied: Value,
    ) -> Result<Value, (u16, Value)> {
        let key = (ns.to_owned(), name.to_owned());
        let owned_key = (
            cluster.to_owned(),
            resource.to_owned(),
            ns.to_owned(),
            name.to_owned(),
            manager.to_owned(),
        );
        let label_keys = |v: &Value| -> HashSet<String> {
            v["metadata"]["labels"]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        let finalizers = |v: &Value| -> HashSet<String> {
            v["metadata"]["finalizers"]
                .as_array()
                .map(|a| a.iter().filter_map(|f| f.as_str().map(str::to_owned)).collect())
                .unwrap_or_default()
        };
        let managed_fields =
            json!([{"manager": manager, "operation": "Apply", "apiVersion": applied["apiVersion"].clone()}]);
        let existing = self.store(cluster, resource).get(&key).cloned();
        let Some(mut obj) = existing else {
            let mut fresh = applied.clone();
            fresh["metadata"]["managedFields"] = managed_fields;
            let created = self.create(cluster, resource, Some(ns).filter(|n| !n.is_empty()), fresh)?;
            // Webhook mutations during the request are attributed to the request's manager.
            self.owned
                .insert(owned_key, (label_keys(&created), finalizers(&created)));
            return Ok(created);
        };
        let (old_labels, old_finalizers) = self.owned.get(&owned_key).cloned().unwrap_or_default();
        let new_labels = label_keys(&applied);
        let new_finalizers = finalizers(&applied);
        if let Some(labels) = obj["metadata"]["labels"].as_object_mut() {
            for k in old_labels.difference(&new_labels) {
                labels.remove(k);
            }
        }
        if let Some(list) = obj["metadata"]["finalizers"].as_array_mut() {
            list.retain(|f| {
                f.as_str()
                    .is_none_or(|f| !old_finalizers.contains(f) || new_finalizers.contains(f))
            });
        }
        let mut meta_patch = applied["metadata"].clone();
        if let Some(m) = meta_patch.as_object_mut() {
            m.remove("finalizers");
            m.remove("resourceVersion");
        }
        merge(&mut obj["metadata"], &meta_patch);
        let mut fins: Vec<String> = obj["metadata"]["finalizers"]
            .as_array()
            .map(|a| a.iter().filter_map(|f| f.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        for f in &new_finalizers {
            if !fins.contains(f) {
                fins.push(f.clone());
            }
        }
        obj["metadata"]["finalizers"] = json!(fins);
        for (k, v) in applied.as_object().into_iter().flatten() {
            if k != "metadata" && k != "status" {
                obj[k] = v.clone();
            }
        }
        obj["metadata"]["managedFields"] = managed_fields;
        let old = self
            .store(cluster, resource)
            .get(&key)
            .cloned()
            .unwrap_or(Value::Null);
        if old == obj {
            return Ok(obj);
        }
        Self::karmada_validate_update(resource, &old, &obj)?;
        self.owned.insert(owned_key, (new_labels, new_finalizers));
        let rv = self.bump();
        obj["metadata"]["resourceVersion"] = json!(rv.to_string());
        obj["metadata"]["generation"] = json!(obj["metadata"]["generation"].as_i64().unwrap_or(1) + 1);
        self.store(cluster, resource).insert(key, obj.clone());
        self.emit(cluster, resource, "MODIFIED", &obj);
        Ok(obj)
    }

    fn delete(
        &mut self,
        cluster: &str,
        resource: &str,
        ns: &str,
        name: &str,
        body: &Value,
    ) -> Result<Value, (u16, Value)> {
        let key = (ns.to_owned(), name.to_owned());
        let Some(old) = self.store(cluster, resource).get(&key).cloned() else {
            return Err((
                404,
                status(404, "NotFound", &format!("{resource} \"{name}\" not found")),
            ));
        };
        let pre = &body["preconditions"];
        if (pre["uid"].is_string() && pre["uid"] != old["metadata"]["uid"])
            || (pre["resourceVersion"].is_string()
                && pre["resourceVersion"] != old["metadata"]["resourceVersion"])
        {
            return Err((409, status(409, "Conflict", "Precondition failed")));
        }
        let rv = self.bump();
        let mut gone = old;
        gone["metadata"]["resourceVersion"] = json!(rv.to_string());
        self.store(cluster, resource).remove(&key);
        self.emit(cluster, resource, "DELETED", &gone);
        Ok(gone)
    }
}

impl FakeApi {
    /// Starts the server on `127.0.0.1:0`.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let (stall, _) = watch::channel(false);
        let stall = Arc::new(stall);
        let (st, sl) = (state.clone(), stall.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (st, sl) = (st.clone(), sl.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req| {
                        let (st, sl) = (st.clone(), sl.clone());
                        async move { Ok::<_, Infallible>(handle(st, sl, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self {
            url: format!("http://{addr}"),
            state,
            stall,
            _stop: Arc::new(task),
        }
    }

    /// A kubeconfig (YAML) for this server.
    pub fn kubeconfig_yaml(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: karmada\n  cluster:\n    server: {}\ncontexts:\n- name: karmada\n  context:\n    cluster: karmada\n    user: admin\ncurrent-context: karmada\nusers:\n- name: admin\n  user:\n    token: fake-token\n",
            self.url
        )
    }

    /// The client configuration `serve --kubeconfig` would build for this server.
    pub async fn kube_config(&self) -> kube::Config {
        let kc = kube::config::Kubeconfig::from_yaml(&self.kubeconfig_yaml()).unwrap();
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .unwrap()
    }

    /// A kube client for this server (through the kubeconfig code path).
    pub async fn client(&self) -> kube::Client {
        kube::Client::try_from(self.kube_config().await).unwrap()
    }

    /// The Karmada adapter's connection to this server (through the kubeconfig code path).
    pub async fn connection(&self) -> Connection {
        Connection::from_config(self.kube_config().await).unwrap()
    }

    /// Registers a member cluster reachable through the proxy.
    pub fn add_member(&self, name: &str) {
        self.state.lock().members.insert(name.to_owned());
    }

    /// Makes the proxy of a member cluster unreachable (503).
    pub fn remove_member(&self, name: &str) {
        self.state.lock().members.remove(name);
    }

    /// Stores (creates or replaces) an object in karmada-apiserver (`cluster` = None) or in a
    /// member, emitting the watch event. `resource` is `group/version/plural` (`/v1/configmaps`).
    pub fn put(&self, cluster: Option<&str>, resource: &str, obj: Value) {
        let mut s = self.state.lock();
        let cluster = cluster.unwrap_or_default();
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        let exists = s
            .store(cluster, resource)
            .contains_key(&(ns.clone(), name.clone()));
        if exists {
            let mut obj = obj;
            if let Some(m) = obj["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
            let _ = s.put(cluster, resource, &ns, &name, obj);
        } else {
            let _ = s.create(
                cluster,
                resource,
                Some(ns.as_str()).filter(|n| !n.is_empty()),
                obj,
            );
        }
    }

    /// Deletes an object, emitting the watch event.
    pub fn remove(&self, cluster: Option<&str>, resource: &str, ns: &str, name: &str) {
        let _ = self
            .state
            .lock()
            .delete(cluster.unwrap_or_default(), resource, ns, name, &Value::Null);
    }

    /// One stored object.
    pub fn get(&self, cluster: Option<&str>, resource: &str, ns: &str, name: &str) -> Option<Value> {
        self.state
            .lock()
            .store(cluster.unwrap_or_default(), resource)
            .get(&(ns.to_owned(), name.to_owned()))
            .cloned()
    }

    /// Every stored object of a resource.
    pub fn list(&self, cluster: Option<&str>, resource: &str) -> Vec<Value> {
        self.state
            .lock()
            .store(cluster.unwrap_or_default(), resource)
            .values()
            .cloned()
            .collect()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Logged> {
        self.state.lock().log.clone()
    }

    /// Requests that changed something.
    pub fn writes(&self) -> Vec<Logged> {
        self.requests().into_iter().filter(Logged::is_write).collect()
    }

    /// Ends every open watch with an `ERROR` 410 (Expired) event and compacts history, so that
    /// resuming from any earlier resourceVersion is Gone too: clients must re-list.
    pub fn expire_watches(&self) {
        let mut s = self.state.lock();
        s.compacted = s.rv + 1;
        s.history.clear();
        let gone = json!({"type": "ERROR", "object": status(410, "Expired", "too old resource version")});
        for w in s.watches.drain(..) {
            let _ = w.tx.send(Bytes::from(format!("{gone}\n")));
        }
    }

    /// Sends a BOOKMARK to every watch that allows them.
    pub fn bookmark(&self) {
        let s = self.state.lock();
        for w in &s.watches {
            if w.bookmarks {
                let _ = w.tx.send(bookmark_line(s.rv));
            }
        }
    }

    /// Closes every open watch stream (clients resume from their last resourceVersion).
    pub fn close_watches(&self) {
        self.state.lock().watches.clear();
    }

    /// Number of open watch streams.
    pub fn open_watches(&self) -> usize {
        let mut s = self.state.lock();
        s.watches.retain(|w| !w.tx.is_closed());
        s.watches.len()
    }

    /// Fails every request (watches included) with `code` until `None`.
    pub fn fail_with(&self, code: Option<u16>) {
        self.state.lock().fail_status = code;
    }

    /// Lets the next `n` writes (POST, PUT, PATCH, DELETE) through, then fails every write with
    /// `code` until called with `None`: a failure in the middle of a batch.
    pub fn fail_writes_after(&self, fault: Option<(usize, u16)>) {
        self.state.lock().fail_writes_after = fault;
    }

    /// Holds every new request (no response at all) until `false`.
    pub fn stall(&self, on: bool) {
        self.stall.send_replace(on);
    }
}

fn bookmark_line(rv: u64) -> Bytes {
    Bytes::from(format!(
        "{}\n",
        json!({"type": "BOOKMARK", "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
               "metadata": {"resourceVersion": rv.to_string()}}})
    ))
}

async fn handle(
    state: Arc<Mutex<State>>,
    stall: Arc<watch::Sender<bool>>,
    req: Request<hyper::body::Incoming>,
) -> Response<Body> {
    let mut stalled = stall.subscribe();
    let _ = stalled.wait_for(|s| !*s).await;
    let method = req.method().clone();
    let full_path = req.uri().path().to_owned();
    let query = query_map(req.uri().query().unwrap_or_default());
    let accept = req
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let is_watch = query.get("watch").is_some_and(|w| w == "true" || w == "1");
    {
        let mut s = state.lock();
        s.log.push(Logged {
            method: method.to_string(),
            path: full_path.clone(),
            query: query
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&"),
            watch: is_watch,
        });
        if let Some(code) = s.fail_status {
            return respond(code, &status(code, "InternalError", "injected failure"));
        }
        if method != Method::GET
            && let Some((left, code)) = s.fail_writes_after.as_mut()
        {
            if *left == 0 {
                let code = *code;
                return respond(code, &status(code, "InternalError", "injected write failure"));
            }
            *left -= 1;
        }
    }

    // Cluster proxy prefix → member store.
    let (cluster, path) = match full_path.strip_prefix("/apis/cluster.karmada.io/v1alpha1/clusters/") {
        Some(rest) if rest.contains("/proxy") => {
            let (name, tail) = rest.split_once("/proxy").unwrap_or((rest, ""));
            if !state.lock().members.contains(name) {
                return respond(
                    503,
                    &status(
                        503,
                        "ServiceUnavailable",
                        &format!("cluster {name} is not reachable"),
                    ),
                );
            }
            (name.to_owned(), tail.to_owned())
        }
        _ => (String::new(), full_path.clone()),
    };
    let Some((resource, ns, name, api_version)) = parse_path(&path) else {
        return respond(
            404,
            &status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            ),
        );
    };
    let metadata_only = accept.contains("as=PartialObjectMetadata");
    let ns_str = ns.clone().unwrap_or_default();

    if method == Method::GET && is_watch {
        return start_watch(&state, &cluster, &resource, ns, metadata_only, &query);
    }
    let mut s = state.lock();
    let parsed: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body).or_else(|_| {
            std::str::from_utf8(&body)
                .map_err(|e| e.to_string())
                .and_then(|text| karmada_takeover::yaml::from_str(text).map_err(|e| e.to_string()))
        }) {
            Ok(v) => v,
            Err(e) => return respond(400, &status(400, "BadRequest", &e.to_string())),
        }
    };
    let result = match (method.clone(), name) {
        (Method::GET, Some(name)) => s
            .store(&cluster, &resource)
            .get(&(ns_str.clone(), name.clone()))
            .cloned()
            .map(|o| if metadata_only { meta_only(&o) } else { o })
            .ok_or_else(|| {
                (
                    404,
                    status(404, "NotFound", &format!("{resource} \"{name}\" not found")),
                )
            }),
        (Method::GET, None) => {
            let rv = s.rv.to_string();
            let selector = query.get("labelSelector");
            let items: Vec<Value> = s
                .store(&cluster, &resource)
                .iter()
                .filter(|((n, _), _)| ns.as_ref().is_none_or(|want| want == n))
                .map(|(_, o)| o)
                .filter(|o| labels_match(o, selector))
                .map(|o| if metadata_only { meta_only(o) } else { o.clone() })
                .collect();
            let kind = items
                .first()
                .and_then(|o| o["kind"].as_str())
                .map_or_else(|| "List".to_owned(), kind_list_name);
            let (av, kind) = if metadata_only {
                (
                    "meta.k8s.io/v1".to_owned(),
                    "PartialObjectMetadataList".to_owned(),
                )
            } else {
                (api_version.clone(), kind)
            };
            Ok(json!({"apiVersion": av, "kind": kind, "metadata": {"resourceVersion": rv}, "items": items}))
        }
        (Method::POST, None) => s.create(&cluster, &resource, ns.as_deref(), parsed),
        (Method::PUT, Some(name)) => s.put(&cluster, &resource, &ns_str, &name, parsed),
        (Method::DELETE, Some(name)) => s.delete(&cluster, &resource, &ns_str, &name, &parsed),
        (Method::PATCH, Some(name)) if content_type.starts_with("application/apply-patch") => {
            let manager = query.get("fieldManager").cloned().unwrap_or_default();
            if manager.is_empty() {
                Err((
                    400,
                    status(400, "BadRequest", "PATCH with apply-patch requires fieldManager"),
                ))
            } else {
                let mut applied = parsed;
                applied["metadata"]["name"] = json!(name);
                s.apply(&cluster, &resource, &ns_str, &name, &manager, applied)
            }
        }
        (Method::PATCH, Some(name)) if content_type.starts_with("application/json-patch") => {
            let stored = s
                .store(&cluster, &resource)
                .get(&(ns_str.clone(), name.clone()))
                .cloned();
            match (stored, serde_json::from_value::<json_patch::Patch>(parsed)) {
                (None, _) => Err((
                    404,
                    status(404, "NotFound", &format!("{resource} \"{name}\" not found")),
                )),
                (_, Err(e)) => Err((400, status(400, "BadRequest", &format!("not a JSON patch: {e}")))),
                (Some(mut obj), Ok(patch)) => match json_patch::patch(&mut obj, &patch) {
                    Err(e) => Err((
                        422,
                        status(422, "Invalid", &format!("JSON patch does not apply: {e}")),
                    )),
                    Ok(()) => {
                        if let Some(m) = obj["metadata"].as_object_mut() {
                            m.remove("resourceVersion");
                        }
                        s.put(&cluster, &resource, &ns_str, &name, obj)
                    }
                },
            }
        }
        (Method::PATCH, Some(name)) if content_type.starts_with("application/merge-patch") => {
            match s
                .store(&cluster, &resource)
                .get(&(ns_str.clone(), name.clone()))
                .cloned()
            {
                None => Err((
                    404,
                    status(404, "NotFound", &format!("{resource} \"{name}\" not found")),
                )),
                Some(mut obj) => {
                    merge(&mut obj, &parsed);
                    if let Some(m) = obj["metadata"].as_object_mut() {
                        m.remove("resourceVersion");
                    }
                    s.put(&cluster, &resource, &ns_str, &name, obj)
                }
            }
        }
        _ => Err((
            405,
            status(405, "MethodNotAllowed", "not supported by the fake API server"),
        )),
    };
    match result {
        Ok(v) => respond(if method == Method::POST { 201 } else { 200 }, &v),
        Err((code, v)) => respond(code, &v),
    }
}

fn start_watch(
    state: &Arc<Mutex<State>>,
    cluster: &str,
    resource: &str,
    namespace: Option<String>,
    metadata_only: bool,
    query: &HashMap<String, String>,
) -> Response<Body> {
    let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
    let bookmarks = query.get("allowWatchBookmarks").is_some_and(|v| v == "true");
    let from: u64 = query
        .get("resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    {
        let mut s = state.lock();
        if from != 0 && from + 1 < s.compacted {
            let gone = json!({"type": "ERROR", "object": status(410, "Expired", &format!("too old resource version: {from}"))});
            let _ = tx.send(Bytes::from(format!("{gone}\n")));
        } else {
            let replay: Vec<Change> = s
                .history
                .iter()
                .filter(|c| c.rv > from && c.cluster == cluster && c.resource == resource)
                .filter(|c| {
                    namespace
                        .as_ref()
                        .is_none_or(|n| c.object["metadata"]["namespace"].as_str() == Some(n))
                })
                .cloned()
                .collect();
            for c in replay {
                let obj = if metadata_only {
                    meta_only(&c.object)
                } else {
                    c.object
                };
                let _ = tx.send(Bytes::from(format!(
                    "{}\n",
                    json!({"type": c.kind, "object": obj})
                )));
            }
            if bookmarks {
                let _ = tx.send(bookmark_line(s.rv));
            }
            s.watches.push(WatchStream {
                cluster: cluster.to_owned(),
                resource: resource.to_owned(),
                namespace,
                metadata_only,
                bookmarks,
                tx,
            });
        }
    }
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        let line = rx.recv().await?;
        Some((Ok::<_, Infallible>(Frame::data(line)), rx))
    });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(StreamBody::new(stream).boxed_unsync())
        .unwrap()
}
