//! The webhook routes: `POST /{mutate,validate}/{workload,policy}`.
//!
//! Status codes: 200 with an AdmissionReview for every readable review (denials included);
//! 404 unknown path; 405 (with `Allow: POST`) other methods; 413 body over `--max-body-bytes`
//! (or one that could not be decoded within `--memory-budget`); 400 unreadable review; 503 no
//! memory or no concurrency permit before the deadline; 504 deadline expired. Non-200 bodies are a
//! Kubernetes `Status` object so clients print the message.
//!
//! A review's steps, all under its deadline (`--request-timeout`): wait for the body's first bytes
//! (holding nothing, so streams that send headers and no body cost nothing but their headers);
//! reserve its memory ([`budget`](super::budget)); read the rest; take a concurrency permit
//! (`--max-concurrent-requests`); decide. A request that finds the memory or every permit taken
//! *waits* until its deadline instead of failing at once: bursts from the API server are short,
//! and a 503 would surface as a failed admission (or a skipped one with `failurePolicy: Ignore`)
//! for a request we could have answered a few milliseconds later. The in-flight gauge is kept by
//! a guard, so a request dropped at any step (client gone) is not counted forever.
//!
//! While the server shuts down, HTTP/1.1 responses carry `Connection: close`.
//!
//! Decoding and deciding are synchronous and take microseconds, so they run inline on the
//! connection's task; bodies above [`INLINE_DECIDE_LIMIT`] go to the blocking pool so a huge
//! object cannot stall other connections and the deadline can still answer for it.

use std::{
    convert::Infallible,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, Version, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use prometheus::{Histogram, IntCounter, IntGauge};
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore},
    time::Instant,
};

use super::{
    Limits, Reviewer, State,
    budget::{Budget, Reservation, Share, decode_estimate},
};
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
    MemoryBudget,
    Internal,
}

impl Rejection {
    const ALL: [Rejection; 8] = [
        Rejection::NotFound,
        Rejection::MethodNotAllowed,
        Rejection::PayloadTooLarge,
        Rejection::BadReview,
        Rejection::Timeout,
        Rejection::Overloaded,
        Rejection::MemoryBudget,
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
            Rejection::MemoryBudget => "memory-budget",
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
            Rejection::Overloaded | Rejection::MemoryBudget => StatusCode::SERVICE_UNAVAILABLE,
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
            Rejection::Overloaded | Rejection::MemoryBudget => "ServiceUnavailable",
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
    reviewer: Reviewer,
    limits: Limits,
    permits: Arc<Semaphore>,
    budget: Budget,
    /// False once shutdown started: HTTP/1.1 responses then ask the client to close.
    serving: Arc<AtomicBool>,
    per_webhook: [WebhookMetrics; 4],
    rejections: [IntCounter; 8],
}

/// Counts a request in `inflight_requests` for as long as it lives, however it ends.
struct InFlight<'a>(&'a IntGauge);

impl<'a> InFlight<'a> {
    fn new(gauge: &'a IntGauge) -> Self {
        gauge.inc();
        Self(gauge)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl App {
    pub(crate) fn new(state: State, reviewer: Reviewer, limits: Limits, serving: Arc<AtomicBool>) -> Self {
        let metrics = &state.metrics;
        let per_webhook = Webhook::ALL.map(|w| WebhookMetrics {
            latency: metrics.latency(w.label()),
        });
        let rejections = Rejection::ALL.map(|r| {
            metrics
                .admission_bad_requests_total
                .with_label_values(&[r.label()])
        });
        let permits = Arc::new(Semaphore::new(
            limits.max_concurrent_requests.min(Semaphore::MAX_PERMITS),
        ));
        let budget = Budget::new(limits.memory_budget, metrics.body_memory_bytes.clone());
        Self {
            state,
            reviewer,
            limits,
            permits,
            budget,
            serving,
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
        let http1 = request.version() <= Version::HTTP_11;
        let mut response = self.route(request).await;
        if http1 && !self.serving.load(Ordering::Relaxed) {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        Ok(response)
    }

    async fn route(&self, request: Request<Incoming>) -> Response<Body> {
        let start = Instant::now();
        let Some(webhook) = Webhook::from_path(request.uri().path()) else {
            let message = format!(
                "no webhook at {}: use one of {}",
                request.uri().path(),
                Webhook::ALL.map(|w| w.path()).join(", ")
            );
            return self.reject(Rejection::NotFound, &message);
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
            return response;
        }
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.limits.max_body_bytes as u64) {
            return self.too_large();
        }
        let declared = declared.and_then(|len| usize::try_from(len).ok());

        let _in_flight = InFlight::new(&self.state.metrics.inflight_requests);
        self.review(webhook, request.into_body(), declared, start).await
    }

    async fn review(
        &self,
        webhook: Webhook,
        body: Incoming,
        declared: Option<usize>,
        start: Instant,
    ) -> Response<Body> {
        let deadline = start + self.limits.request_timeout;
        let (body, reservation) = match self.read_body(body, declared, deadline).await {
            Ok(read) => read,
            Err(response) => return response,
        };
        // The permit is taken only now: streams still sending (or never sending) their bodies
        // cannot hold the permits valid reviews need.
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => match tokio::time::timeout_at(deadline, self.permits.clone().acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                _ => {
                    return self.reject(
                        Rejection::Overloaded,
                        "too many admission reviews in flight (--max-concurrent-requests): try again",
                    );
                }
            },
        };

        let result = if body.len() <= INLINE_DECIDE_LIMIT {
            let result = (self.reviewer)(&self.state, webhook, &body);
            drop((body, reservation, permit));
            result
        } else {
            // The permit and the memory go with the task: they stay taken until it is done, even
            // if the deadline answers the client first.
            let (state, reviewer) = (self.state.clone(), self.reviewer.clone());
            let task = tokio::task::spawn_blocking(move || {
                let held: (Reservation, OwnedSemaphorePermit) = (reservation, permit);
                let result = reviewer(&state, webhook, &body);
                drop((body, held));
                result
            });
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

    /// Reads the body under the memory budget: nothing is reserved until its first bytes arrive,
    /// then all it will need at once (see [`budget`](super::budget)).
    async fn read_body(
        &self,
        mut body: Incoming,
        declared: Option<usize>,
        deadline: Instant,
    ) -> Result<(Bytes, Reservation), Response<Body>> {
        let max = self.limits.max_body_bytes;
        let Some(first) = self.next_frame(&mut body, deadline).await? else {
            return Ok((Bytes::new(), self.budget.nothing()));
        };
        let (share, charge) = Budget::charge(declared, max);
        let Ok(mut reservation) = tokio::time::timeout_at(deadline, self.budget.reserve(share, charge)).await
        else {
            return Err(self.over_budget());
        };

        // Most bodies arrive in one frame: kept as is. Otherwise gathered into one buffer sized
        // by the declared length (already reserved).
        let mut single = first;
        let mut gathered: Option<Vec<u8>> = None;
        while let Some(next) = self.next_frame(&mut body, deadline).await? {
            let buffer = gathered.get_or_insert_with(|| {
                let mut buffer = Vec::with_capacity(declared.unwrap_or(64 * 1024).max(single.len()));
                buffer.extend_from_slice(&single);
                buffer
            });
            if buffer.len() + next.len() > max {
                return Err(self.too_large());
            }
            buffer.extend_from_slice(&next);
            single = Bytes::new();
        }
        let body = gathered.map_or(single, Bytes::from);
        if body.len() > max {
            return Err(self.too_large());
        }

        if share == Share::Large {
            reservation.shrink_body(body.len());
            let needed = decode_estimate(&body);
            if needed > self.budget.decoding_capacity() {
                let message = format!(
                    "decoding this review would take about {} MiB, more than the memory budget allows \
                     (--memory-budget)",
                    needed.div_ceil(1024 * 1024)
                );
                return Err(self.reject(Rejection::PayloadTooLarge, &message));
            }
            if tokio::time::timeout_at(deadline, self.budget.reserve_decoding(&mut reservation, needed))
                .await
                .is_err()
            {
                return Err(self.over_budget());
            }
        }
        Ok((body, reservation))
    }

    /// The next data frame of `body` (trailers are skipped), `None` at its end.
    async fn next_frame(
        &self,
        body: &mut Incoming,
        deadline: Instant,
    ) -> Result<Option<Bytes>, Response<Body>> {
        loop {
            match tokio::time::timeout_at(deadline, body.frame()).await {
                Err(_) => return Err(self.timed_out()),
                Ok(None) => return Ok(None),
                Ok(Some(Err(error))) => {
                    return Err(self.reject(
                        Rejection::BadReview,
                        &format!("could not read the request body: {error}"),
                    ));
                }
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        return Ok(Some(data));
                    }
                }
            }
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
        for outcome in &summary.restart {
            metrics
                .restart_guard_total
                .with_label_values(&[outcome.label()])
                .inc();
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

    fn over_budget(&self) -> Response<Body> {
        let message = format!(
            "request bodies in flight already use the memory budget ({} bytes, --memory-budget): try again",
            self.limits.memory_budget
        );
        self.reject(Rejection::MemoryBudget, &message)
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

/// Decodes and decides one review against the current fleet and config: the [`Reviewer`] of
/// [`Server::start`](super::Server::start).
pub(super) fn decide(state: &State, webhook: Webhook, body: &[u8]) -> Result<Reviewed, BadReview> {
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
