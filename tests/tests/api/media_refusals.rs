//! What the media library refuses: files that are not what they claim,
//! malformed forms, files over their limit; and what it keeps of a name.

use plaza_tests::media::{elf, mp4, png};
use plaza_tests::{MultipartForm, TestApp, expect_json, expect_problem};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::media::{files_in, list, media_root};

#[actix_web::test]
async fn content_is_judged_by_its_bytes_not_its_name() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;

    let executable = app
        .upload(
            &ada.access,
            &ws,
            MultipartForm::with_file("cat.png", "image/png", &elf(4096)),
        )
        .await;
    let problem = expect_problem(
        executable,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unsupported_media_type",
    )
    .await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("application/x-executable"), "{detail}");

    let mut windows = b"MZ\x90\0".to_vec();
    windows.resize(20_000, 0);
    for (name, bytes) in [
        ("cat.png", windows),
        (
            "cat.jpg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
        ),
        ("cat.gif", Vec::new()),
    ] {
        let response = app
            .upload(
                &ada.access,
                &ws,
                MultipartForm::with_file(name, "image/png", &bytes),
            )
            .await;
        expect_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unsupported_media_type",
        )
        .await;
    }

    // A PNG signature on something that is not a PNG.
    let mut broken = b"\x89PNG\r\n\x1a\n".to_vec();
    broken.extend_from_slice(&[0xff; 64]);
    let response = app
        .upload(
            &ada.access,
            &ws,
            MultipartForm::with_file("x.png", "image/png", &broken),
        )
        .await;
    expect_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unreadable_media",
    )
    .await;

    for (form, field) in [
        (MultipartForm::new().text("alt_text", "no file"), "file"),
        (
            MultipartForm::with_file("a.png", "image/png", &png(2, 2, 1)).file(
                "file",
                "b.png",
                "image/png",
                &png(2, 2, 2),
            ),
            "file",
        ),
        (
            MultipartForm::with_file("a.png", "image/png", &png(2, 2, 1)).text("owner", "me"),
            "owner",
        ),
        (
            MultipartForm::with_file("a.png", "image/png", &png(2, 2, 1))
                .text("alt_text", &"x".repeat(1501)),
            "alt_text",
        ),
    ] {
        let response = app.upload(&ada.access, &ws, form).await;
        let problem = expect_problem(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field);
    }

    let json = app
        .post(
            &format!("/v1/workspaces/{ws}/media"),
            &ada.access,
            &json!({"file": "iVBORw0KGgo="}),
        )
        .send()
        .await
        .unwrap();
    let problem = expect_problem(
        json,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("multipart/form-data")
    );

    let truncated = app
        .request(Method::POST, &format!("/v1/workspaces/{ws}/media"))
        .bearer_auth(&ada.access)
        .header("content-type", "multipart/form-data; boundary=xyz")
        .body(b"--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\x89PNG".to_vec())
        .send()
        .await
        .unwrap();
    expect_problem(truncated, StatusCode::BAD_REQUEST, "malformed_multipart").await;

    assert_eq!(list(&app, &ada.access, &ws, "").await["data"], json!([]));
    assert_eq!(files_in(&media_root(&app).join("objects")), 0);
    assert_eq!(files_in(&media_root(&app).join("staging")), 0);
}

#[actix_web::test]
async fn files_over_their_limit_are_refused_with_413() {
    let app = TestApp::spawn_with(|c| {
        c.media_max_bytes = 80 * 1024;
        c.media_image_max_bytes = 4 * 1024;
    })
    .await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;

    // An image over the image limit, small enough for any other type.
    let big_image = png(40, 40, 1);
    assert!(big_image.len() > 4 * 1024 && big_image.len() < 80 * 1024);
    let response = app
        .upload(
            &ada.access,
            &ws,
            MultipartForm::with_file("big.png", "image/png", &big_image),
        )
        .await;
    let problem =
        expect_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert!(problem["detail"].as_str().unwrap().contains("4096"));

    // The same size as a video is fine.
    let video = expect_json(
        app.upload(
            &ada.access,
            &ws,
            MultipartForm::with_file("clip.mp4", "video/mp4", &mp4(big_image.len())),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(video["mime_type"], "video/mp4");
    assert!(video["width"].is_null());

    // Streamed without a Content-Length to trust.
    let form = MultipartForm::with_file("big.mp4", "video/mp4", &mp4(120 * 1024));
    let content_type = form.content_type();
    let body = form.into_body();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(8 * 1024).map(|c| Ok(c.to_vec())).collect();
    let response = app
        .request(Method::POST, &format!("/v1/workspaces/{ws}/media"))
        .bearer_auth(&ada.access)
        .header("content-type", content_type)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    // A declared length far over the limit is refused before any is read.
    let response = app
        .upload(
            &ada.access,
            &ws,
            MultipartForm::with_file("huge.mp4", "video/mp4", &mp4(400 * 1024)),
        )
        .await;
    expect_problem(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    let page = list(&app, &ada.access, &ws, "").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 1, "only the video");
    assert_eq!(files_in(&media_root(&app).join("staging")), 0);
}

#[actix_web::test]
async fn file_names_are_kept_only_as_safe_text() {
    let app = TestApp::spawn().await;
    let ada = app.signup("ada@example.com").await;
    let ws = app.create_workspace(&ada, "Acme").await;
    for (seed, (sent, kept)) in [
        ("café au lait.png", json!("café au lait.png")),
        // Backslashes escaped as a quoted-string needs: a Windows path.
        (
            "C:\\\\Users\\\\ada\\\\cat\u{202e}gnp.exe",
            json!("catgnp.exe"),
        ),
        // Unescaped, a backslash only quotes the next character.
        ("C:\\Users\\ada.png", json!("C_Usersada.png")),
        ("..", Value::Null),
    ]
    .into_iter()
    .enumerate()
    {
        let form = MultipartForm::with_file(sent, "image/png", &png(2, 2, seed as u8));
        let created = expect_json(
            app.upload(&ada.access, &ws, form).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(created["original_filename"], kept, "{sent}");
        assert_eq!(created["mime_type"], "image/png");
    }
}
