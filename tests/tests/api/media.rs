//! The media library end to end: uploads read back with their validators,
//! de-duplication, alt text, lists, roles, and the stored files' lifetime.
//! What uploads are refused for is in `media_refusals`.

use std::path::{Path, PathBuf};

use plaza_api::db::media::MediaRow;
use plaza_api::error::ApiError;
use plaza_tests::media::{mp4, png};
use plaza_tests::{MultipartForm, TestApp, expect_json, expect_problem};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn media_root(app: &TestApp) -> PathBuf {
    app.state.config.data_dir.join("media")
}

fn stored_path(app: &TestApp, sha256: &str) -> PathBuf {
    media_root(app)
        .join("objects")
        .join(&sha256[..2])
        .join(sha256)
}

pub(crate) fn files_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, Iterator::count)
}

pub(crate) async fn list(app: &TestApp, token: &str, ws: &str, query: &str) -> Value {
    expect_json(
        app.get(&format!("/v1/workspaces/{ws}/media{query}"), token)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await
}

#[actix_web::test]
async fn an_upload_is_read_back_byte_for_byte_with_its_validators() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let bytes = png(3, 2, 7);

    // The declared name and type are the client's claim; only the name is kept.
    let form = MultipartForm::new()
        .text("alt_text", "  A latte with a heart in the foam ")
        .file(
            "file",
            "../../photos/latte.png",
            "application/octet-stream",
            &bytes,
        );
    let response = app.upload(&ada.access, &ws, form).await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let created = expect_json(response, StatusCode::CREATED).await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(location, format!("/v1/workspaces/{ws}/media/{id}"));
    assert_eq!(created["mime_type"], "image/png");
    assert_eq!(created["size_bytes"], bytes.len());
    assert_eq!(created["sha256"], sha256_hex(&bytes));
    assert_eq!(created["width"], 3);
    assert_eq!(created["height"], 2);
    assert_eq!(created["alt_text"], "A latte with a heart in the foam");
    assert_eq!(created["original_filename"], "latte.png");
    assert_eq!(created["created_by"], ada.user_id.as_str());
    assert_eq!(created["content_url"], format!("{location}/content"));

    let read = app.get(&location, &ada.access).send().await.unwrap();
    assert_eq!(read.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(expect_json(read, StatusCode::OK).await, created);

    let content_url = created["content_url"].as_str().unwrap();
    let content = app.get(content_url, &ada.access).send().await.unwrap();
    assert_eq!(content.status(), StatusCode::OK);
    let headers = content.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["content-length"], bytes.len().to_string().as_str());
    let strong = format!("\"{}\"", sha256_hex(&bytes));
    assert_eq!(headers["etag"], strong.as_str());
    assert_eq!(headers["cache-control"], "private");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(content.bytes().await.unwrap().as_ref(), bytes.as_slice());

    for if_none_match in [
        strong.clone(),
        format!("W/{strong}"),
        format!("\"x\", {strong}"),
    ] {
        let cached = app
            .get(content_url, &ada.access)
            .header("if-none-match", &if_none_match)
            .send()
            .await
            .unwrap();
        assert_eq!(cached.status(), StatusCode::NOT_MODIFIED, "{if_none_match}");
        assert_eq!(cached.headers()["etag"], strong.as_str());
        assert!(cached.bytes().await.unwrap().is_empty());
    }
    let stale = app
        .get(content_url, &ada.access)
        .header("if-none-match", "\"something else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::OK);

    let page = list(&app, &ada.access, &ws, "").await;
    assert_eq!(page["data"], json!([created]));
    assert!(page["next_cursor"].is_null());
}

#[actix_web::test]
async fn the_same_bytes_again_answer_the_existing_item() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let bytes = png(5, 5, 1);
    let first = expect_json(
        app.upload(
            &ada.access,
            &ws,
            MultipartForm::with_file("a.png", "image/png", &bytes),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    let again = app
        .upload(
            &ada.access,
            &ws,
            MultipartForm::with_file("b.png", "image/png", &bytes).text("alt_text", "ignored"),
        )
        .await;
    assert_eq!(
        again.headers()["content-location"].to_str().unwrap(),
        format!(
            "/v1/workspaces/{ws}/media/{}",
            first["id"].as_str().unwrap()
        )
    );
    let again = expect_json(again, StatusCode::OK).await;
    assert_eq!(again, first, "the existing item, unchanged");

    let page = list(&app, &ada.access, &ws, "").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert_eq!(files_in(&media_root(&app).join("staging")), 0);
}

#[actix_web::test]
async fn simultaneous_uploads_of_the_same_bytes_make_one_item() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let bytes = png(64, 64, 5);
    let uploads = (0..4).map(|_| {
        app.upload(
            &ada.access,
            &ws,
            MultipartForm::with_file("same.png", "image/png", &bytes),
        )
    });
    let mut created = 0;
    let mut ids = Vec::new();
    for response in futures_util::future::join_all(uploads).await {
        match response.status() {
            StatusCode::CREATED => created += 1,
            status => assert_eq!(status, StatusCode::OK),
        }
        ids.push(response.json::<Value>().await.unwrap()["id"].clone());
    }
    assert_eq!(created, 1);
    ids.dedup();
    assert_eq!(ids.len(), 1, "every answer names the same item");
    let page = list(&app, &ada.access, &ws, "").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn alt_text_changes_need_the_current_etag() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let created = app.upload_png(&ada.access, &ws, 1).await;
    let path = format!(
        "/v1/workspaces/{ws}/media/{}",
        created["id"].as_str().unwrap()
    );
    let etag = app.get(&path, &ada.access).send().await.unwrap().headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();

    let updated = app
        .patch(
            &path,
            &ada.access,
            &json!({"alt_text": "Two cups on a table"}),
        )
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    let new_etag = updated.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    let updated = expect_json(updated, StatusCode::OK).await;
    assert_eq!(updated["alt_text"], "Two cups on a table");
    assert_eq!(updated["sha256"], created["sha256"]);

    let stale = app
        .patch(&path, &ada.access, &json!({"alt_text": "Lost update"}))
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    expect_problem(
        stale,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    let stale_delete = app
        .delete(&path, &ada.access)
        .header("if-match", &etag)
        .send()
        .await
        .unwrap();
    expect_problem(
        stale_delete,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await;
    let current = expect_json(
        app.get(&path, &ada.access).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(current["alt_text"], "Two cups on a table");

    for (body, field) in [
        (json!({"alt_text": "x".repeat(1501)}), "alt_text"),
        (json!({"alt_text": 42}), "alt_text"),
        (json!({"sha256": "00"}), "sha256"),
    ] {
        let response = app.patch(&path, &ada.access, &body).send().await.unwrap();
        let problem = expect_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }

    let unchanged = app
        .patch(&path, &ada.access, &json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.headers()["etag"].to_str().unwrap(), new_etag);
    let cleared = expect_json(
        app.patch(&path, &ada.access, &json!({"alt_text": null}))
            .header("if-match", &new_etag)
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(cleared["alt_text"].is_null());
}

#[actix_web::test]
async fn analysts_read_the_library_but_do_not_change_it() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let grace = app
        .add_member(&ada, &ws, "grace@example.com", "analyst")
        .await;
    let created = app.upload_png(&ada.access, &ws, 3).await;
    let path = format!(
        "/v1/workspaces/{ws}/media/{}",
        created["id"].as_str().unwrap()
    );

    let upload = app
        .upload(
            &grace.access,
            &ws,
            MultipartForm::with_file("a.png", "image/png", &png(2, 2, 9)),
        )
        .await;
    expect_problem(upload, StatusCode::FORBIDDEN, "permission_denied").await;
    let patch = app
        .patch(&path, &grace.access, &json!({"alt_text": "mine now"}))
        .send()
        .await
        .unwrap();
    expect_problem(patch, StatusCode::FORBIDDEN, "permission_denied").await;
    let delete = app.delete(&path, &grace.access).send().await.unwrap();
    expect_problem(delete, StatusCode::FORBIDDEN, "permission_denied").await;

    assert_eq!(
        list(&app, &grace.access, &ws, "").await["data"][0]["id"],
        created["id"]
    );
    for url in [path.clone(), format!("{path}/content")] {
        let response = app.get(&url, &grace.access).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{url}");
    }

    // A token narrowed to reading cannot upload, even for an owner.
    let (_, reader) = app.api_token(&ada, &ws, &["posts:read"]).await;
    let upload = app
        .upload(
            &reader,
            &ws,
            MultipartForm::with_file("a.png", "image/png", &png(2, 2, 9)),
        )
        .await;
    expect_problem(upload, StatusCode::FORBIDDEN, "permission_denied").await;
    let (_, writer) = app.api_token(&ada, &ws, &["media:write"]).await;
    let uploaded = app.upload_png(&writer, &ws, 9).await;
    assert_eq!(uploaded["created_by"], ada.user_id.as_str());
}

#[actix_web::test]
async fn lists_filter_by_type_and_page_through_everything_once() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    let mut images = Vec::new();
    for seed in 0..3 {
        images.push(app.upload_png(&ada.access, &ws, seed).await["id"].clone());
    }
    let video = expect_json(
        app.upload(
            &ada.access,
            &ws,
            MultipartForm::with_file("clip.mov", "video/quicktime", &mp4(2048)),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;

    let ids = |page: &Value| -> Vec<Value> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].clone())
            .collect()
    };
    assert_eq!(
        ids(&list(&app, &ada.access, &ws, "?mime_type=image/").await),
        images
    );
    assert_eq!(
        ids(&list(&app, &ada.access, &ws, "?mime_type=VIDEO/mp4").await),
        vec![video["id"].clone()]
    );
    assert_eq!(
        ids(&list(&app, &ada.access, &ws, "?mime_type=image/gif").await),
        Vec::<Value>::new()
    );

    let mut seen = Vec::new();
    let mut query = "?limit=3".to_owned();
    loop {
        let page = list(&app, &ada.access, &ws, &query).await;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    let mut everything = images.clone();
    everything.push(video["id"].clone());
    assert_eq!(seen, everything);

    for bad in [
        "?mime_type=image/%25",
        "?mime_type=",
        "?limit=0",
        "?kind=image",
    ] {
        let response = app
            .get(&format!("/v1/workspaces/{ws}/media{bad}"), &ada.access)
            .send()
            .await
            .unwrap();
        assert!(
            response.status() == StatusCode::UNPROCESSABLE_ENTITY
                || response.status() == StatusCode::BAD_REQUEST,
            "{bad}: {}",
            response.status()
        );
    }
}

#[actix_web::test]
async fn stored_bytes_live_as_long_as_some_workspace_uses_them() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let acme = app.create_workspace(&ada, "Acme").await;
    let globex = app.create_workspace(&ada, "Globex").await;
    let bytes = png(6, 6, 42);
    let sha256 = sha256_hex(&bytes);
    let form = || MultipartForm::with_file("shared.png", "image/png", &bytes);

    let in_acme = expect_json(
        app.upload(&ada.access, &acme, form()).await,
        StatusCode::CREATED,
    )
    .await;
    let in_globex = expect_json(
        app.upload(&ada.access, &globex, form()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_ne!(
        in_acme["id"], in_globex["id"],
        "each workspace has its own item"
    );
    assert_eq!(in_acme["sha256"], in_globex["sha256"]);
    assert!(stored_path(&app, &sha256).is_file());
    assert_eq!(files_in(stored_path(&app, &sha256).parent().unwrap()), 1);

    let acme_item = format!(
        "/v1/workspaces/{acme}/media/{}",
        in_acme["id"].as_str().unwrap()
    );
    let deleted = app.delete(&acme_item, &ada.access).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = app.get(&acme_item, &ada.access).send().await.unwrap();
    expect_problem(gone, StatusCode::NOT_FOUND, "not_found").await;
    let again = app.delete(&acme_item, &ada.access).send().await.unwrap();
    expect_problem(again, StatusCode::NOT_FOUND, "not_found").await;
    assert!(stored_path(&app, &sha256).is_file(), "Globex still uses it");
    let content = app
        .get(in_globex["content_url"].as_str().unwrap(), &ada.access)
        .send()
        .await
        .unwrap();
    assert_eq!(content.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let globex_item = format!(
        "/v1/workspaces/{globex}/media/{}",
        in_globex["id"].as_str().unwrap()
    );
    let deleted = app.delete(&globex_item, &ada.access).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert!(
        !stored_path(&app, &sha256).exists(),
        "no one uses it any more"
    );

    // Deleting a workspace takes its media with it, keeping what others use.
    let kept = app.upload_png(&ada.access, &globex, 1).await;
    let shared = app.upload_png(&ada.access, &acme, 1).await;
    let only_acme = app.upload_png(&ada.access, &acme, 2).await;
    let response = app
        .delete(&format!("/v1/workspaces/{acme}"), &ada.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(shared["sha256"], kept["sha256"]);
    assert!(stored_path(&app, kept["sha256"].as_str().unwrap()).is_file());
    assert!(!stored_path(&app, only_acme["sha256"].as_str().unwrap()).exists());
}

#[actix_web::test]
async fn find_many_answers_only_the_workspaces_own_items() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let acme = app.create_workspace(&ada, "Acme").await;
    let globex = app.create_workspace(&ada, "Globex").await;
    let first = app.upload_png(&ada.access, &acme, 1).await;
    let second = app.upload_png(&ada.access, &acme, 2).await;
    let elsewhere = app.upload_png(&ada.access, &globex, 3).await;

    let id = |item: &Value| item["id"].as_str().unwrap().to_owned();
    let asked = vec![
        id(&second),
        id(&elsewhere),
        uuid::Uuid::now_v7().to_string(),
        id(&first),
    ];
    let ws = acme.clone();
    let rows = app
        .state
        .db
        .read(move |conn| MediaRow::find_many(conn, &ws, &asked).map_err(ApiError::from))
        .await
        .unwrap();
    let found: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
    assert_eq!(found, vec![id(&first), id(&second)]);
    let ws = acme.clone();
    let none = app
        .state
        .db
        .read(move |conn| MediaRow::find_many(conn, &ws, &[]).map_err(ApiError::from))
        .await
        .unwrap();
    assert!(none.is_empty());
}
