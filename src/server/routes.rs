//! The webhook routes: `POST /{mutate,validate}/{workload,policy}`.
//!
//! Status codes: 200 with an AdmissionReview for every readable review (denials included);
//! 404 unknown path; 405 (with `Allow: POST`) other methods; 413 body over `--max-body-bytes`;
//! 400 unreadable review; 503 no concurrency permit before the deadline; 504 deadline expired.
//! Non-200 bodies are a Kubernetes `Status` object so clients print the message.
//!
//! Concurrency: a request that finds every permit taken *waits* for one until its deadline
//! instead of failing at once: bursts from the API server are short, and a 503 would surface as
//! a failed admission (or a skipped one with `failurePolicy: Ignore`) for a request we could
//! have answered a few milliseconds later.
//!
//! Decoding and deciding are synchronous and take microseconds, so they run inline on the
//! connection's task; bodies above [`INLINE_DECIDE_LIMIT`] go to the blocking pool so a huge
//! object cannot stall other connections and the deadline can still answer for it.

use std::{convert::Infallible, sync::Arc};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use prometheus::{Histogram, IntCounter};
use tokio::{sync::Semaphore, time::Instant};

use super::{Limits, State};
use crate::{
    admission::{self, BadReview, Reviewed},
    rules::{Action, Webhook},
};

/// Bodies up to this size are decided on the connection task; larger ones on the blocking pool.
pub const INLINE_DECIDE_LIMIT: usize = 256 * 1024;

/// Kinds that keep their own value in the `kind` metric label; others are counted as `other` so
/// a client cannot grow the label set without bound.
const POLICY_KINDS: [&str; 2] = ["PropagationPolicy", "ClusterPropagationPolicy"];

type Body = Full<Bytes>;

/// Why a request got no AdmissionResponse (label of `admission_bad_requests_total`).
#[derive(Debug, Clone, Copy)]
enum Rejection {
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    BadReview,
    Timeout,
    Overloaded,
    Internal,
}

impl Rejection {
    const ALL: [Rejection; 7] = [
        Rejection::NotFound,
        Rejection::MethodNotAllowed,
        Rejection::PayloadTooLarge,
        Rejection::BadReview,
        Rejection::Timeout,
        Rejection::Overloaded,
        Rejection::Internal,
    ];

    fn label(self) -> &'static str {
        match self {
            Rejection::NotFound => "not-found",
            Rejection::MethodNotAllowed => "method-not-allowed",
            Rejection::PayloadTooLarge => "payload-too-large",
            Rejection::BadReview => "bad-review",
            Rejection::Timeout => "timeout",
            Rejection::Overloaded => "overloaded",
            Rejection::Internal => "internal",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Rejection::NotFound => StatusCode::NOT_FOUND,
            Rejection::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Rejection::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Rejection::BadReview => StatusCode::BAD_REQUEST,
            Rejection::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Rejection::Overloaded => StatusCode::SERVICE_UNAVAILABLE,
            Rejection::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The Kubernetes `Status.reason` for the code.
    fn reason(self) -> &'static str {
        match self {
            Rejection::NotFound => "NotFound",
            Rejection::MethodNotAllowed => "MethodNotAllowed",
            Rejection::PayloadTooLarge => "RequestEntityTooLarge",
            Rejection::BadReview => "BadRequest",
            Rejection::Timeout => "Timeout",
            Rejection::Overloaded => "ServiceUnavailable",
            Rejection::Internal => "InternalError",
        }
    }
}

/// Per-webhook metric children, looked up once.
struct WebhookMetrics {
    latency: Histogram,
}

/// Everything a request needs, shared by all connections.
pub(crate) struct App {
    state: State,
    limits: Limits,
    permits: Semaphore,
    per_webhook: [WebhookMetrics; 4],
    rejections: [IntCounter; 7],
}

impl App {
    pub(crate) fn new(state: State, limits: Limits) -> Self {
        let metrics = &state.metrics;
        let per_webhook = Webhook::ALL.map(|w| WebhookMetrics {
            latency: metrics.latency(w.label()),
        });
        let rejections = Rejection::ALL.map(|r| {
            metrics
                .admission_bad_requests_total
                .with_label_values(&[r.label()])
        });
        let permits = Semaphore::new(limits.max_concurrent_requests.min(Semaphore::MAX_PERMITS));
        Self {
            state,
            limits,
            permits,
            per_webhook,
            rejections,
        }
    }

    fn webhook_metrics(&self, webhook: Webhook) -> &WebhookMetrics {
        let index = Webhook::ALL.iter().position(|w| *w == webhook).unwrap_or(0);
        &self.per_webhook[index]
    }

    /// The hyper service function.
    pub(crate) async fn handle(
        self: Arc<Self>,
        request: Request<Incoming>,
    ) -> Result<Response<Body>, Infallible> {
        let start = Instant::now();
        let Some(webhook) = Webhook::from_path(request.uri().path()) else {
            let message = format!(
                "no webhook at {}: use one of {}",
                request.uri().path(),
                Webhook::ALL.map(|w| w.path()).join(", ")
            );
            return Ok(self.reject(Rejection::NotFound, &message));
        };
        if request.method() != Method::POST {
            let message = format!(
                "{} {}: admission webhooks accept POST only",
                request.method(),
                webhook.path()
            );
            let mut response = self.reject(Rejection::MethodNotAllowed, &message);
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return Ok(response);
        }
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.limits.max_body_bytes as u64) {
            return Ok(self.too_large());
        }

        let metrics = &self.state.metrics;
        metrics.inflight_requests.inc();
        let response = self.review(webhook, request.into_body(), start).await;
        metrics.inflight_requests.dec();
        Ok(response)
    }

    async fn review(&self, webhook: Webhook, body: Incoming, start: Instant) -> Response<Body> {
        let deadline = start + self.limits.request_timeout;
        let _permit = match self.permits.try_acquire() {
            Ok(permit) => permit,
            Err(_) => match tokio::time::timeout_at(deadline, self.permits.acquire()).await {
                Ok(Ok(permit)) => permit,
                _ => {
                    return self.reject(
                        Rejection::Overloaded,
                        "too many admission reviews in flight (--max-concurrent-requests): try again",
                    );
                }
            },
        };
        let body =
            match tokio::time::timeout_at(deadline, Limited::new(body, self.limits.max_body_bytes).collect())
                .await
            {
                Ok(Ok(collected)) => collected.to_bytes(),
                Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => {
                    return self.too_large();
                }
                Ok(Err(error)) => {
                    return self.reject(
                        Rejection::BadReview,
                        &format!("could not read the request body: {error}"),
                    );
                }
                Err(_) => return self.timed_out(),
            };

        let result = if body.len() <= INLINE_DECIDE_LIMIT {
            decide(&self.state, webhook, &body)
        } else {
            let state = self.state.clone();
            let task = tokio::task::spawn_blocking(move || decide(&state, webhook, &body));
            match tokio::time::timeout_at(deadline, task).await {
                Ok(Ok(result)) => result,
                Ok(Err(join_error)) => {
                    tracing::error!(%join_error, webhook = webhook.label(), "review task failed");
                    return self.reject(
                        Rejection::Internal,
                        "the review could not be decided (internal error)",
                    );
                }
                Err(_) => return self.timed_out(),
            }
        };

        match result {
            Ok(reviewed) => self.answer(webhook, reviewed, start),
            Err(error @ BadReview::Encode(_)) => {
                tracing::error!(%error, webhook = webhook.label(), "could not encode an admission response");
                self.reject(Rejection::Internal, &error.to_string())
            }
            Err(error) => self.reject(Rejection::BadReview, &error.to_string()),
        }
    }

    /// Records, logs and hands the actions on; answers 200 with the review.
    fn answer(&self, webhook: Webhook, reviewed: Reviewed, start: Instant) -> Response<Body> {
        let Reviewed { body, summary, .. } = reviewed;
        let metrics = &self.state.metrics;
        let elapsed = start.elapsed();
        self.webhook_metrics(webhook)
            .latency
            .observe(elapsed.as_secs_f64());
        let kind_label = if POLICY_KINDS.contains(&summary.kind.as_str())
            || self
                .state
                .config
                .load()
                .kinds
                .iter()
                .any(|k| k.kind == summary.kind)
        {
            summary.kind.as_str()
        } else {
            "other"
        };
        metrics
            .admission_requests_total
            .with_label_values(&[
                webhook.label(),
                kind_label,
                summary.operation,
                summary.outcome.label(),
            ])
            .inc();
        if let Some(reason) = summary.deny_reason {
            metrics.denials_total.with_label_values(&[reason.label()]).inc();
        }
        tracing::info!(
            uid = %summary.uid,
            kind = %summary.kind,
            namespace = %summary.namespace,
            name = %summary.name,
            operation = summary.operation,
            dry_run = summary.dry_run,
            outcome = summary.outcome.label(),
            deny_reason = summary.deny_reason.map(|r| r.label()),
            warnings = summary.warnings,
            latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            webhook = webhook.label(),
            "review"
        );
        if !summary.actions.is_empty() && !summary.dry_run {
            for action in &summary.actions {
                match action {
                    Action::EnsurePolicy { .. } => metrics.takeovers_total.inc(),
                    Action::ReleasePolicy { .. } => metrics.releases_total.inc(),
                }
            }
            self.state.writer.submit(&summary.actions);
        }
        json_response(StatusCode::OK, Bytes::from(body))
    }

    fn too_large(&self) -> Response<Body> {
        let message = format!(
            "request body is larger than {} bytes (--max-body-bytes)",
            self.limits.max_body_bytes
        );
        self.reject(Rejection::PayloadTooLarge, &message)
    }

    fn timed_out(&self) -> Response<Body> {
        let message = format!(
            "the review was not answered within {} (--request-timeout)",
            humantime::format_duration(self.limits.request_timeout)
        );
        self.reject(Rejection::Timeout, &message)
    }

    fn reject(&self, rejection: Rejection, message: &str) -> Response<Body> {
        // `ALL` lists the variants in declaration order, so the discriminant is the index.
        if let Some(counter) = self.rejections.get(rejection as usize) {
            counter.inc();
        }
        tracing::debug!(reason = rejection.label(), %message, "request rejected");
        status_response(rejection.status(), rejection.reason(), message)
    }
}

/// Decodes and decides one review against the current fleet and config.
fn decide(state: &State, webhook: Webhook, body: &[u8]) -> Result<Reviewed, BadReview> {
    let config = state.config.load();
    let fleet = state.fleet.read();
    admission::review(webhook, body, &fleet, &config)
}

fn json_response(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A Kubernetes `Status` object carrying `message`.
pub(crate) fn status_response(status: StatusCode, reason: &str, message: &str) -> Response<Body> {
    let body = serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": status.as_u16(),
    });
    json_response(status, Bytes::from(body.to_string()))
}
