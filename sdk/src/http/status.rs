//! What an unsuccessful HTTP status means for a plugin call.

use serde_json::Value;

use super::Response;
use crate::PluginError;

/// Longest reason taken from a response body, in characters.
const MAX_REASON_CHARS: usize = 300;

/// The [`PluginError`] an unsuccessful response means:
///
/// | status | error |
/// | --- | --- |
/// | 401, 403 | `Unauthorized(reason)` |
/// | 404, 410 | `NotFound` |
/// | 429 | `RateLimited(Retry-After seconds)` |
/// | other 4xx | `Invalid(reason)` |
/// | 5xx and anything else | `Transient("HTTP <status>: reason")` |
///
/// The reason is the body's `message`, `error_description`, `error`,
/// `detail` or `title` (or its first `errors[]` message) when the body is
/// JSON, else the body's text, else `HTTP <status>`.
pub fn error_for_response(response: &Response) -> PluginError {
    let status = response.status;
    match status {
        401 | 403 => PluginError::Unauthorized(reason(response)),
        404 | 410 => PluginError::NotFound,
        429 => PluginError::RateLimited(
            response
                .header("retry-after")
                .and_then(|value| retry_after_secs(value, crate::clock::now_ms())),
        ),
        400..=499 => PluginError::Invalid(reason(response)),
        _ => PluginError::Transient(format!("HTTP {status}: {}", reason(response))),
    }
}

/// Seconds to wait from a `Retry-After` value: delta-seconds, or an
/// HTTP-date (`Sun, 06 Nov 1994 08:49:37 GMT`) measured from `now_ms`.
pub fn retry_after_secs(value: &str, now_ms: u64) -> Option<u32> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(u32::try_from(secs).unwrap_or(u32::MAX));
    }
    let at = http_date_secs(value)?;
    let wait = at.saturating_sub(now_ms / 1000);
    Some(u32::try_from(wait).unwrap_or(u32::MAX))
}

fn reason(response: &Response) -> String {
    let from_json = serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|body| json_reason(&body));
    let text = from_json.unwrap_or_else(|| response.text().trim().to_owned());
    if text.is_empty() {
        format!("HTTP {}", response.status)
    } else {
        text.chars().take(MAX_REASON_CHARS).collect()
    }
}

fn json_reason(body: &Value) -> Option<String> {
    for key in ["message", "error_description", "error", "detail", "title"] {
        match body.get(key) {
            Some(Value::String(text)) if !text.is_empty() => return Some(text.clone()),
            Some(nested @ Value::Object(_)) => {
                if let Some(text) = json_reason(nested) {
                    return Some(text);
                }
            }
            _ => {}
        }
    }
    match body.get("errors")?.get(0)? {
        Value::String(text) => Some(text.clone()),
        first => json_reason(first),
    }
}

/// Seconds since the Unix epoch of an IMF-fixdate, the form HTTP uses.
fn http_date_secs(value: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = value.split_whitespace().skip(1);
    let day: i64 = parts.next()?.parse().ok()?;
    let month_name = parts.next()?;
    let month = MONTHS.iter().position(|name| *name == month_name)?;
    let year: i64 = parts.next()?.parse().ok()?;
    let mut clock = parts.next()?.split(':').map(str::parse::<i64>);
    let (hours, minutes, seconds) = (
        clock.next()?.ok()?,
        clock.next()?.ok()?,
        clock.next()?.ok()?,
    );
    if parts.next()? != "GMT" {
        return None;
    }
    let month = i64::try_from(month).ok()? + 1;
    let days = days_from_civil(year, month, day);
    u64::try_from(days * 86_400 + hours * 3_600 + minutes * 60 + seconds).ok()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn error_for(status: u16, body: &Value) -> PluginError {
        error_for_response(&Response::json_body(status, body))
    }

    #[test]
    fn statuses_map_to_errors() {
        let body = json!({ "message": "bad token" });
        assert_eq!(
            error_for(401, &body),
            PluginError::unauthorized("bad token")
        );
        assert_eq!(
            error_for(403, &body),
            PluginError::unauthorized("bad token")
        );
        assert_eq!(error_for(404, &body), PluginError::NotFound);
        assert_eq!(error_for(422, &body), PluginError::invalid("bad token"));
        assert_eq!(
            error_for(503, &body),
            PluginError::transient("HTTP 503: bad token")
        );
    }

    #[test]
    fn rate_limits_carry_retry_after() {
        let limited = Response::new(429).with_header("Retry-After", "120");
        assert_eq!(
            error_for_response(&limited),
            PluginError::RateLimited(Some(120))
        );
        assert_eq!(
            error_for_response(&Response::new(429)),
            PluginError::RateLimited(None)
        );
    }

    #[test]
    fn retry_after_reads_http_dates() {
        let now_ms = 784_111_777_000 - 90_000;
        assert_eq!(
            retry_after_secs("Sun, 06 Nov 1994 08:49:37 GMT", now_ms),
            Some(90)
        );
        assert_eq!(
            retry_after_secs("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777_000 + 5_000),
            Some(0)
        );
        assert_eq!(retry_after_secs("soon", now_ms), None);
    }

    #[test]
    fn reasons_come_from_common_error_shapes() {
        let cases = [
            (
                json!({ "error": "invalid_grant", "error_description": "expired" }),
                "expired",
            ),
            (json!({ "error": { "message": "nested" } }), "nested"),
            (
                json!({ "errors": [{ "message": "first" }, { "message": "second" }] }),
                "first",
            ),
            (json!({ "errors": ["plain"] }), "plain"),
            (json!({ "detail": "problem details" }), "problem details"),
        ];
        for (body, expected) in cases {
            assert_eq!(
                error_for(400, &body),
                PluginError::invalid(expected),
                "{body}"
            );
        }
    }

    #[test]
    fn reasons_fall_back_to_text_then_status() {
        let text = Response::text_body(400, "  text too long \n");
        assert_eq!(
            error_for_response(&text),
            PluginError::invalid("text too long")
        );
        assert_eq!(
            error_for_response(&Response::new(400)),
            PluginError::invalid("HTTP 400")
        );
        let long = Response::text_body(400, "x".repeat(1_000));
        let PluginError::Invalid(reason) = error_for_response(&long) else {
            panic!("expected Invalid");
        };
        assert_eq!(reason.len(), MAX_REASON_CHARS);
    }
}
