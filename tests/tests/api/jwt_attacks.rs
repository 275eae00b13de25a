//! Every forged, altered or misused token answers 401 `invalid_token`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use plaza_tests::{TestApp, expect_json, expect_problem};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn claims(app: &TestApp, sub: &str) -> Value {
    let now = Utc::now().timestamp();
    json!({
        "iss": app.state.config.jwt_issuer,
        "aud": app.state.config.jwt_audience,
        "sub": sub,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "test",
    })
}

fn header(alg: Algorithm, kid: &str, typ: Option<&str>) -> Header {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    header.typ = typ.map(str::to_owned);
    header
}

/// Signs with the server's own active key.
fn sign_as_server(app: &TestApp, header: &Header, claims: &Value) -> String {
    jsonwebtoken::encode(header, claims, app.state.keys.active_signing().encoding()).unwrap()
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

async fn assert_refused(app: &TestApp, token: &str, what: &str) {
    let response = app.get("/v1/me", token).send().await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "{what} was accepted"
    );
    expect_problem(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
}

#[actix_web::test]
async fn forged_and_misused_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let session = app.signup("ada@example.com").await;
    let kid = app.state.keys.active_signing().kid.clone();
    let sub = session.user_id.clone();

    // The control: a token the server signs the proper way works.
    let good = sign_as_server(
        &app,
        &header(Algorithm::EdDSA, &kid, Some("at+jwt")),
        &claims(&app, &sub),
    );
    assert_eq!(
        app.get("/v1/me", &good).send().await.unwrap().status(),
        StatusCode::OK
    );

    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "at+jwt", "kid": kid})),
        b64(&claims(&app, &sub))
    );
    assert_refused(&app, &none, "alg none").await;

    let stranger = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let der = ed25519_dalek::pkcs8::EncodePrivateKey::to_pkcs8_der(&stranger).unwrap();
    let wrong_key = jsonwebtoken::encode(
        &header(Algorithm::EdDSA, &kid, Some("at+jwt")),
        &claims(&app, &sub),
        &EncodingKey::from_ed_der(der.as_bytes()),
    )
    .unwrap();
    assert_refused(&app, &wrong_key, "a token signed by another key").await;

    // HS256 keyed with the published public key (the classic confusion attack).
    let jwks = expect_json(
        app.request(reqwest::Method::GET, "/v1/auth/jwks")
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let x = jwks["keys"][0]["x"].as_str().unwrap().to_owned();
    let raw_public = URL_SAFE_NO_PAD.decode(&x).unwrap();
    for secret in [raw_public.as_slice(), x.as_bytes()] {
        let confused = jsonwebtoken::encode(
            &header(Algorithm::HS256, &kid, Some("at+jwt")),
            &claims(&app, &sub),
            &EncodingKey::from_secret(secret),
        )
        .unwrap();
        assert_refused(&app, &confused, "HS256 keyed with the public key").await;
    }

    let mut wrong_aud = claims(&app, &sub);
    wrong_aud["aud"] = json!("another-api");
    let mut wrong_iss = claims(&app, &sub);
    wrong_iss["iss"] = json!("https://evil.example");
    let mut expired = claims(&app, &sub);
    expired["exp"] = json!(Utc::now().timestamp() - 3600);
    expired["iat"] = json!(Utc::now().timestamp() - 4600);
    expired["nbf"] = json!(Utc::now().timestamp() - 4600);
    let mut not_yet = claims(&app, &sub);
    not_yet["nbf"] = json!(Utc::now().timestamp() + 3600);
    let mut no_sub = claims(&app, &sub);
    no_sub.as_object_mut().unwrap().remove("sub");
    let mut no_exp = claims(&app, &sub);
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut bad_sub = claims(&app, &sub);
    bad_sub["sub"] = json!("admin");
    let proper = header(Algorithm::EdDSA, &kid, Some("at+jwt"));
    for (what, body) in [
        ("wrong aud", wrong_aud),
        ("wrong iss", wrong_iss),
        ("expired", expired),
        ("not yet valid", not_yet),
        ("no sub", no_sub),
        ("no exp", no_exp),
        ("a sub that is no account id", bad_sub),
    ] {
        assert_refused(&app, &sign_as_server(&app, &proper, &body), what).await;
    }

    let unknown_kid = sign_as_server(
        &app,
        &header(Algorithm::EdDSA, "not-a-key", Some("at+jwt")),
        &claims(&app, &sub),
    );
    assert_refused(&app, &unknown_kid, "unknown kid").await;
    let no_kid = {
        let mut h = header(Algorithm::EdDSA, &kid, Some("at+jwt"));
        h.kid = None;
        sign_as_server(&app, &h, &claims(&app, &sub))
    };
    assert_refused(&app, &no_kid, "no kid").await;
    for typ in [None, Some("JWT")] {
        let token = sign_as_server(
            &app,
            &header(Algorithm::EdDSA, &kid, typ),
            &claims(&app, &sub),
        );
        assert_refused(&app, &token, "wrong typ").await;
    }

    // A real token with its payload swapped keeps a signature that no longer matches.
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut other = claims(&app, &sub);
    other["sub"] = json!(uuid::Uuid::now_v7().to_string());
    parts[1] = b64(&other);
    assert_refused(&app, &parts.join("."), "a tampered payload").await;

    assert_refused(&app, &session.refresh, "a refresh token").await;
    assert_refused(&app, "garbage", "garbage").await;
}
