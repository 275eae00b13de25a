//! The `deliver_webhook` job: one attempt to send one delivery, recorded
//! with its outcome, and the endpoint's health updated in the same
//! transaction.

use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeDelta, Utc};
use url::Url;

use super::{DeliveryStatus, MAX_ATTEMPTS, RETRY_SCHEDULE, address, signing, signing_secrets};
use crate::db::now as db_now;
use crate::db::webhooks::{AttemptRow, DeliveryChanges, DeliveryRow, EndpointChanges, EndpointRow};
use crate::domain::activity::EventType;
use crate::error::ApiError;
use crate::jobs::{ClaimedJob, Retry};
use crate::state::AppState;
use crate::worker::{JobFailure, JobOutcome};

/// The job kind.
pub const DELIVER_WEBHOOK: &str = "deliver_webhook";

/// How much of an answer's body the log keeps.
const EXCERPT_CHARS: usize = 1_000;
/// How much of an answer's body is read at all.
const READ_LIMIT: usize = 64 * 1024;
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, serde::Deserialize)]
struct Input {
    delivery_id: String,
}

/// What one attempt came to.
#[derive(Debug)]
struct Attempt {
    status_code: Option<u16>,
    excerpt: Option<String>,
    error: Option<String>,
    retry_after: Option<Duration>,
}

impl Attempt {
    fn failed(error: impl Into<String>) -> Self {
        Self {
            status_code: None,
            excerpt: None,
            error: Some(error.into()),
            retry_after: None,
        }
    }

    /// A 2xx answer, read to its end.
    fn succeeded(&self) -> bool {
        self.status_code
            .is_some_and(|code| (200..300).contains(&code))
            && self.error.is_none()
    }

    fn gone(&self) -> bool {
        self.status_code == Some(410)
    }

    /// What the log says went wrong.
    fn reason(&self) -> String {
        match (&self.error, self.status_code) {
            (Some(error), _) => error.clone(),
            (None, Some(code)) => format!("the endpoint answered {code}"),
            (None, None) => "no answer".to_owned(),
        }
    }
}

/// Runs one attempt of a delivery.
pub async fn handle(state: &AppState, job: &ClaimedJob) -> JobOutcome {
    let input: Input = job
        .parse_payload()
        .map_err(|e| JobFailure::with(format!("bad payload: {e}"), Retry::Never))?;
    let id = input.delivery_id.clone();
    let loaded = state
        .db
        .read(move |conn| {
            let Some(delivery) = DeliveryRow::find_by_id(conn, &id)? else {
                return Ok::<_, ApiError>(None);
            };
            let endpoint = EndpointRow::find_by_id(conn, &delivery.endpoint_id)?;
            Ok(endpoint.map(|endpoint| (delivery, endpoint)))
        })
        .await?;
    // The endpoint (and its deliveries) were deleted meanwhile.
    let Some((delivery, endpoint)) = loaded else {
        return Ok(());
    };
    if delivery.status != DeliveryStatus::Pending.as_str() {
        return Ok(());
    }
    let now = db_now();
    if endpoint.disabled_at.is_some() {
        finish_unsent(state, &delivery, "the endpoint is disabled", now).await?;
        return Ok(());
    }
    let started = Instant::now();
    let attempt = send(state, &endpoint, &delivery, now).await;
    let latency = started.elapsed();
    let last = job.attempts >= job.max_attempts.min(MAX_ATTEMPTS);
    let retry_in = retry_delay(delivery.attempts, attempt.retry_after);
    record(
        state, &endpoint, &delivery, &attempt, latency, last, retry_in,
    )
    .await?;
    if attempt.succeeded() || attempt.gone() || last {
        Ok(())
    } else {
        Err(JobFailure::with(attempt.reason(), Retry::Backoff(retry_in)))
    }
}

/// The wait before the next attempt after `made` earlier attempts and this
/// one: the schedule's, or longer if the receiver asked for it.
fn retry_delay(made: i32, retry_after: Option<Duration>) -> Duration {
    let index = usize::try_from(made).unwrap_or(0);
    let scheduled = RETRY_SCHEDULE
        .get(index)
        .or(RETRY_SCHEDULE.last())
        .copied()
        .unwrap_or(Duration::from_secs(60));
    retry_after
        .map(|asked| asked.min(MAX_RETRY_AFTER))
        .map_or(scheduled, |asked| scheduled.max(asked))
}

/// Sends the delivery once: checks where it goes, signs, POSTs, reads the
/// start of the answer.
async fn send(
    state: &AppState,
    endpoint: &EndpointRow,
    delivery: &DeliveryRow,
    now: NaiveDateTime,
) -> Attempt {
    let allowed = &state.config.webhook_allowed_hosts;
    let url = match address::check_url(&endpoint.url, allowed) {
        Ok(url) => url,
        Err(reason) => return Attempt::failed(format!("the endpoint URL {reason}")),
    };
    let addrs = match address::resolve(&url, allowed).await {
        Ok(addrs) => addrs,
        Err(reason) => return Attempt::failed(reason.to_string()),
    };
    let secrets = match signing_secrets(&state.keys, endpoint, now) {
        Ok(secrets) => secrets,
        Err(reason) => return Attempt::failed(reason),
    };
    let timestamp = Utc::now().timestamp();
    let signature =
        match signing::signature(&secrets, &delivery.event_id, timestamp, &delivery.payload) {
            Ok(signature) => signature,
            Err(reason) => return Attempt::failed(reason),
        };
    let client = match client(state, &url, &addrs) {
        Ok(client) => client,
        Err(reason) => return Attempt::failed(reason),
    };
    let sent = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &delivery.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(delivery.payload.clone())
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(err) if err.is_timeout() => {
            return Attempt::failed(format!(
                "no answer within {} s",
                state.config.webhook_timeout_secs
            ));
        }
        Err(err) => return Attempt::failed(format!("could not connect: {err}")),
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let redirect = (300..400)
        .contains(&status)
        .then(|| "redirects are not followed; give the final URL".to_owned());
    let (excerpt, read_error) = read_excerpt(response).await;
    Attempt {
        status_code: Some(status),
        excerpt,
        error: redirect.or(read_error),
        retry_after,
    }
}

fn client(
    state: &AppState,
    url: &Url,
    addrs: &[std::net::SocketAddr],
) -> Result<reqwest::Client, String> {
    let host = url.host_str().unwrap_or_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(state.config.webhook_timeout_secs))
        .no_proxy()
        .user_agent(concat!("Plaza-Webhooks/", env!("CARGO_PKG_VERSION")))
        .resolve_to_addrs(host, addrs)
        .build()
        .map_err(|e| format!("cannot make an HTTP client: {e}"))
}

/// The start of the answer's body, as text; reading stops after a while.
async fn read_excerpt(mut response: reqwest::Response) -> (Option<String>, Option<String>) {
    let mut body = Vec::new();
    let mut error = None;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if body.len() >= READ_LIMIT {
                    break;
                }
            }
            Ok(None) => break,
            Err(err) => {
                error = Some(format!("the answer broke off: {err}"));
                break;
            }
        }
    }
    let text: String = String::from_utf8_lossy(&body)
        .chars()
        .take(EXCERPT_CHARS)
        .collect();
    ((!text.is_empty()).then_some(text), error)
}

/// Gives up a delivery that was never sent (its endpoint is disabled).
async fn finish_unsent(
    state: &AppState,
    delivery: &DeliveryRow,
    reason: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let changes = DeliveryChanges {
        status: Some(DeliveryStatus::Failed.as_str().to_owned()),
        next_attempt_at: Some(None),
        last_error: Some(Some(reason.to_owned())),
        finished_at: Some(Some(now)),
        updated_at: Some(now),
        ..DeliveryChanges::default()
    };
    let id = delivery.id.clone();
    state
        .db
        .write(move |conn| {
            DeliveryRow::update(conn, &id, &changes)?;
            Ok::<_, ApiError>(())
        })
        .await
}

/// Records the attempt, the delivery's new state and the endpoint's health
/// in one transaction.
async fn record(
    state: &AppState,
    endpoint: &EndpointRow,
    delivery: &DeliveryRow,
    attempt: &Attempt,
    latency: Duration,
    last: bool,
    retry_in: Duration,
) -> Result<(), ApiError> {
    let now = db_now();
    let number = delivery.attempts + 1;
    let row = AttemptRow {
        id: uuid::Uuid::now_v7().to_string(),
        delivery_id: delivery.id.clone(),
        attempt: number,
        started_at: now - TimeDelta::from_std(latency).unwrap_or_default(),
        status_code: attempt.status_code.map(i32::from),
        latency_ms: i64::try_from(latency.as_millis()).unwrap_or(i64::MAX),
        response_excerpt: attempt.excerpt.clone(),
        error: attempt.error.clone(),
    };
    let ok = attempt.succeeded();
    let gone = attempt.gone();
    let finished = ok || gone || last;
    let status = match (ok, finished) {
        (true, _) => DeliveryStatus::Succeeded,
        (false, true) => DeliveryStatus::Failed,
        (false, false) => DeliveryStatus::Pending,
    };
    let delivery_changes = DeliveryChanges {
        status: Some(status.as_str().to_owned()),
        attempts: Some(number),
        next_attempt_at: Some(
            (!finished).then(|| now + TimeDelta::from_std(retry_in).unwrap_or_default()),
        ),
        last_status_code: Some(attempt.status_code.map(i32::from)),
        last_error: Some((!ok).then(|| attempt.reason())),
        finished_at: Some(finished.then_some(now)),
        updated_at: Some(now),
    };
    let disable_after =
        TimeDelta::hours(i64::try_from(state.config.webhook_disable_after_hours).unwrap_or(120));
    let disable_hours = state.config.webhook_disable_after_hours;
    let (delivery_id, endpoint_id) = (delivery.id.clone(), endpoint.id.clone());
    let reason = attempt.reason();
    state
        .db
        .write(move |conn| {
            row.insert(conn)?;
            DeliveryRow::update(conn, &delivery_id, &delivery_changes)?;
            // Read again: other deliveries to the endpoint run concurrently.
            let Some(endpoint) = EndpointRow::find_by_id(conn, &endpoint_id)? else {
                return Ok(());
            };
            let mut changes = if ok {
                EndpointChanges {
                    failing_since: Some(None),
                    consecutive_failures: Some(0),
                    last_success_at: Some(Some(now)),
                    updated_at: Some(now),
                    ..EndpointChanges::default()
                }
            } else {
                EndpointChanges {
                    failing_since: Some(Some(endpoint.failing_since.unwrap_or(now))),
                    consecutive_failures: Some(endpoint.consecutive_failures.saturating_add(1)),
                    updated_at: Some(now),
                    ..EndpointChanges::default()
                }
            };
            let failing_long = endpoint
                .failing_since
                .unwrap_or(now)
                .checked_add_signed(disable_after)
                .is_some_and(|limit| limit <= now);
            let disable_reason = if gone {
                Some("the endpoint answered 410 Gone".to_owned())
            } else if !ok && last && failing_long {
                Some(format!(
                    "every delivery attempt failed for {disable_hours} hours"
                ))
            } else {
                None
            };
            let disable_reason = disable_reason.filter(|_| endpoint.disabled_at.is_none());
            if let Some(why) = &disable_reason {
                changes.version = Some(endpoint.version + 1);
                changes.disabled_at = Some(Some(now));
                changes.disabled_reason = Some(Some(why.clone()));
            }
            // Disabled before the event below is recorded, so it is not
            // sent to the endpoint that stopped answering.
            EndpointRow::update(conn, &endpoint_id, &changes)?;
            if let Some(why) = disable_reason {
                let unsent = format!("not sent: the endpoint was disabled ({why})");
                DeliveryRow::fail_pending(conn, &endpoint_id, &unsent, now)?;
                let data = serde_json::json!({
                    "webhook_id": endpoint_id,
                    "url": endpoint.url,
                    "reason": why,
                    "last_error": reason,
                });
                crate::activity::record(
                    conn,
                    &endpoint.workspace_id,
                    EventType::WebhookDisabled,
                    Some(&endpoint_id),
                    &data,
                )?;
            }
            Ok::<_, ApiError>(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_unless_asked_to_wait_longer() {
        assert_eq!(retry_delay(0, None), Duration::from_secs(5));
        assert_eq!(retry_delay(1, None), Duration::from_secs(300));
        assert_eq!(retry_delay(6, None), Duration::from_secs(36_000));
        assert_eq!(retry_delay(40, None), Duration::from_secs(36_000));
        assert_eq!(
            retry_delay(0, Some(Duration::from_secs(120))),
            Duration::from_secs(120)
        );
        assert_eq!(
            retry_delay(1, Some(Duration::from_secs(1))),
            Duration::from_secs(300)
        );
        assert_eq!(
            retry_delay(0, Some(Duration::from_secs(10 * 86_400))),
            MAX_RETRY_AFTER
        );
    }
}
