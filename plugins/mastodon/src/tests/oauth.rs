//! OAuth2: registering a client with the instance, consent, code exchange.

use plaza_sdk::http::Response;
use plaza_sdk::testing::TestHost;
use plaza_sdk::{Plugin, PluginError};
use serde_json::{Value, json};

use super::{Mastodon, channel, url};
use crate::oauth::SCOPES;

const REDIRECT: &str = "https://app.example.com/oauth/return";

/// `POST /api/v1/apps` as documented (an `Application` with its credentials).
fn registered() -> Response {
    Response::json_body(
        200,
        &json!({
            "id": "563419",
            "name": "Plaza",
            "website": null,
            "scopes": SCOPES.split(' ').collect::<Vec<_>>(),
            "redirect_uri": REDIRECT,
            "redirect_uris": [REDIRECT],
            "client_id": "TWhM-tNSuncnqN7DBJmoyeLnk6K3iJJ71KKXxgL1hPM",
            "client_secret": "ZEaFUFmF0umgBX1qKJDjaU99Q31lDkOU8NutzTOoliw",
            "client_secret_expires_at": 0
        }),
    )
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| value.to_owned())
    })
}

#[test]
fn starting_registers_a_client_and_answers_the_consent_url() {
    let host = TestHost::new();
    host.on("POST", &url("/api/v1/apps"), registered());

    let consent =
        Mastodon::oauth_authorize_url(&channel(), "st4te", "ch4llenge", REDIRECT).unwrap();

    assert!(consent.starts_with(&url("/oauth/authorize?")), "{consent}");
    assert_eq!(
        query_param(&consent, "response_type").as_deref(),
        Some("code")
    );
    assert_eq!(
        query_param(&consent, "client_id").as_deref(),
        Some("TWhM-tNSuncnqN7DBJmoyeLnk6K3iJJ71KKXxgL1hPM")
    );
    assert_eq!(
        query_param(&consent, "redirect_uri").as_deref(),
        Some("https%3A%2F%2Fapp.example.com%2Foauth%2Freturn")
    );
    assert_eq!(query_param(&consent, "state").as_deref(), Some("st4te"));
    assert_eq!(
        query_param(&consent, "code_challenge").as_deref(),
        Some("ch4llenge")
    );
    assert_eq!(
        query_param(&consent, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(
        query_param(&consent, "scope")
            .unwrap()
            .contains("write%3Astatuses")
    );

    let sent = host.last_request().unwrap();
    assert_eq!(
        sent.header_value("authorization"),
        None,
        "apps need no token"
    );
    assert_eq!(
        sent.body_json::<Value>().unwrap(),
        json!({ "client_name": "Plaza", "redirect_uris": REDIRECT, "scopes": SCOPES })
    );

    // A second start for the same channel reuses the client.
    Mastodon::oauth_authorize_url(&channel(), "again", "c2", REDIRECT).unwrap();
    assert_eq!(host.requests().len(), 1);
    // Another redirect URI needs a client of its own.
    Mastodon::oauth_authorize_url(&channel(), "s", "c", "https://other.example/cb").unwrap();
    assert_eq!(host.requests().len(), 2);
}

#[test]
fn the_code_is_exchanged_with_the_registered_client_and_the_verifier() {
    let host = TestHost::new();
    host.on("POST", &url("/api/v1/apps"), registered());
    host.on(
        "POST",
        &url("/oauth/token"),
        // The documented `Token` entity.
        Response::json_body(
            200,
            &json!({
                "access_token": "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0",
                "token_type": "Bearer",
                "scope": "read write follow push",
                "created_at": 1573979017
            }),
        ),
    );
    Mastodon::oauth_authorize_url(&channel(), "s", "c", REDIRECT).unwrap();

    let tokens = Mastodon::oauth_exchange(&channel(), "c0de", "v3rifier", REDIRECT).unwrap();

    assert_eq!(tokens.access, "ZA-Yj3aBD8U8Cm7lKUp-lm9O9BmDgdhHzDeqsY8tlL0");
    assert_eq!(tokens.refresh, None, "Mastodon tokens do not expire");
    assert_eq!(tokens.scope.as_deref(), Some("read write follow push"));
    let sent = host.last_request().unwrap();
    assert_eq!(
        sent.header_value("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = sent.body_text();
    for field in [
        "grant_type=authorization_code",
        "code=c0de",
        "code_verifier=v3rifier",
        "client_id=TWhM-tNSuncnqN7DBJmoyeLnk6K3iJJ71KKXxgL1hPM",
        "client_secret=ZEaFUFmF0umgBX1qKJDjaU99Q31lDkOU8NutzTOoliw",
        "redirect_uri=https%3A%2F%2Fapp.example.com%2Foauth%2Freturn",
    ] {
        assert!(form.contains(field), "{field} in {form}");
    }
}

#[test]
fn an_exchange_without_a_started_connection_or_with_a_bad_code_fails_clearly() {
    let host = TestHost::new();
    assert!(matches!(
        Mastodon::oauth_exchange(&channel(), "c", "v", REDIRECT),
        Err(PluginError::Invalid(reason)) if reason.contains("start connecting again")
    ));
    host.on("POST", &url("/api/v1/apps"), registered());
    host.on(
        "POST",
        &url("/oauth/token"),
        Response::json_body(
            400,
            &json!({ "error": "invalid_grant", "error_description": "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client." }),
        ),
    );
    Mastodon::oauth_authorize_url(&channel(), "s", "c", REDIRECT).unwrap();
    assert!(matches!(
        Mastodon::oauth_exchange(&channel(), "stale", "v", REDIRECT),
        Err(PluginError::Unauthorized(_))
    ));
    // The client is kept: only the grant was bad.
    assert!(host.kv_get("oauth_client").is_some());
}

#[test]
fn registration_refused_by_the_instance_is_reported() {
    let host = TestHost::new();
    host.on(
        "POST",
        &url("/api/v1/apps"),
        Response::json_body(
            422,
            &json!({ "error": "Validation failed: Redirect URI must be an absolute URI." }),
        ),
    );
    assert_eq!(
        Mastodon::oauth_authorize_url(&channel(), "s", "c", REDIRECT),
        Err(PluginError::invalid(
            "Validation failed: Redirect URI must be an absolute URI."
        ))
    );
    assert!(host.kv_get("oauth_client").is_none());
}

#[test]
fn refresh_uses_the_refresh_token_when_the_server_issued_one() {
    let host = TestHost::new();
    assert!(matches!(
        Mastodon::oauth_refresh(&channel()),
        Err(PluginError::Unauthorized(_))
    ));
    host.credential("refresh_token", "r3fresh");
    host.on("POST", &url("/api/v1/apps"), registered());
    host.on(
        "POST",
        &url("/oauth/token"),
        Response::json_body(
            200,
            &json!({ "access_token": "new", "refresh_token": "r4", "expires_in": 7200 }),
        ),
    );
    Mastodon::oauth_authorize_url(&channel(), "s", "c", REDIRECT).unwrap();
    let tokens = Mastodon::oauth_refresh(&channel()).unwrap();
    assert_eq!(tokens.access, "new");
    assert_eq!(tokens.refresh.as_deref(), Some("r4"));
    assert_eq!(tokens.expires_in, Some(7200));
    let form = host.last_request().unwrap().body_text();
    assert!(
        form.contains("grant_type=refresh_token&refresh_token=r3fresh"),
        "{form}"
    );
}
