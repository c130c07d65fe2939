//! The plain-HTTP admin listener: `GET /metrics`, `/healthz`, `/readyz`.
//!
//! `/readyz` is 200 only while the webhook listener is serving *and* the fleet view has synced;
//! it turns 503 as soon as shutdown starts, so the Service stops routing to a draining pod.

use std::{
    convert::Infallible,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{net::TcpListener, sync::watch, task::JoinSet};

use super::{State, accept_until_stopped, routes::status_response};

/// Serves the admin endpoints until `stopped`.
pub(super) async fn serve(
    listener: TcpListener,
    state: State,
    serving: Arc<AtomicBool>,
    stopped: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    accept_until_stopped(&listener, stopped, &mut connections, "admin", |stream| {
        let state = state.clone();
        let serving = serving.clone();
        async move {
            let service = hyper::service::service_fn(move |request| {
                let response = respond(&state, &serving, &request);
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(5))
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }
    })
    .await;
    // Admin connections carry no state worth draining.
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

fn respond(state: &State, serving: &AtomicBool, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    if !matches!(path, "/metrics" | "/healthz" | "/readyz") {
        return status_response(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("no admin endpoint at {path}: use /metrics, /healthz or /readyz"),
        );
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = status_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            &format!("{} {path}: use GET", request.method()),
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    match path {
        "/metrics" => match state.metrics.encode() {
            Ok(text) => text_response(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                text.into(),
            ),
            Err(error) => text_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                error.to_string().into(),
            ),
        },
        "/healthz" => text_response(StatusCode::OK, "text/plain", Bytes::from_static(b"ok\n")),
        _ => {
            let synced = state.fleet.read().is_synced();
            let serving = serving.load(Ordering::SeqCst);
            match (serving, synced) {
                (true, true) => text_response(StatusCode::OK, "text/plain", Bytes::from_static(b"ready\n")),
                (false, _) => text_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    Bytes::from_static(b"not ready: the webhook listener is not serving (shutting down)\n"),
                ),
                (true, false) => text_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    Bytes::from_static(b"not ready: the fleet state has not synced yet\n"),
                ),
            }
        }
    }
}

fn text_response(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
