//! The WordPress plugin against a real WordPress site (Debian's package on
//! PHP's built-in server and MariaDB): a post scheduled in Plaza becomes an
//! article with its categories, tags and featured image; comments written
//! on the site come back through the plugin from a cursor; replies,
//! moderation, deletion and counts reach the site.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use plaza_api::plugins::bindings::{Moderation, Page, Post};
use plaza_api::plugins::error::{CallError, PluginFault};
use plaza_api::plugins::{CallContext, LoadedPlugin};
use plaza_api::worker::run_due;
use plaza_tests::wordpress::{ADMIN, WordPressSite};
use plaza_tests::{Session, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A site, and Plaza with it connected as a `wordpress` channel.
struct Setup {
    site: WordPressSite,
    app: TestApp,
    owner: Session,
    ws: String,
    channel: String,
}

async fn setup() -> Setup {
    let site = WordPressSite::start().await;
    let app = TestApp::spawn_with_plugins().await;
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let channel = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/channels"),
                &owner.access,
                &json!({
                    "plugin_id": "wordpress",
                    "config": {"site_url": site.url},
                    "credentials": {"username": ADMIN, "application_password": site.app_password},
                }),
            ),
            StatusCode::CREATED,
        )
        .await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    Setup {
        site,
        app,
        owner,
        ws,
        channel,
    }
}

impl Setup {
    fn plugin(&self) -> std::sync::Arc<LoadedPlugin> {
        self.app
            .state
            .plugins
            .get("wordpress")
            .expect("wordpress plugin loaded")
    }

    fn context(&self) -> CallContext {
        plaza_api::plugins::channels::context(
            &self.channel,
            json!({"site_url": self.site.url}),
            HashMap::from([
                ("username".to_owned(), ADMIN.to_owned()),
                (
                    "application_password".to_owned(),
                    self.site.app_password.clone(),
                ),
            ]),
        )
    }

    /// The context of a channel whose kv store is empty (as after a crash
    /// before anything was remembered).
    fn fresh_context(&self) -> CallContext {
        let mut context = self.context();
        context.channel_id = Some(uuid::Uuid::now_v7().to_string());
        context
    }

    async fn comments(&self, post: &str, cursor: Option<String>) -> Page {
        self.app
            .state
            .plugins
            .fetch_comments(&self.plugin(), self.context(), post.to_owned(), cursor, 50)
            .await
            .expect("fetch-comments succeeds")
    }

    async fn moderate(&self, remote_id: &str, action: Moderation) -> Result<(), CallError> {
        self.app
            .state
            .plugins
            .moderate(&self.plugin(), self.context(), remote_id.to_owned(), action)
            .await
    }
}

fn texts(page: &Page) -> Vec<&str> {
    page.items.iter().map(|i| i.text.as_str()).collect()
}

#[actix_web::test]
async fn a_scheduled_post_becomes_an_article_with_its_terms_and_featured_image() {
    let s = setup().await;
    // One category exists already: it is used, not made again.
    let coffee = s
        .site
        .call(Method::POST, "/categories", Some(json!({"name": "Coffee"})))
        .await;
    let media = s.app.upload_png(&s.owner.access, &s.ws, 7).await;
    let media_id = media["id"].as_str().unwrap();

    let posts = format!("/v1/workspaces/{}/posts", s.ws);
    let post = s
        .app
        .call(
            s.app.post(
                &posts,
                &s.owner.access,
                &json!({
                    "body": "# Spring roast\n\nOur **spring** roast is in.",
                    "media_ids": [media_id],
                    "variants": [{
                        "channel_id": s.channel,
                        "options": {
                            "excerpt": "Cherry and cocoa",
                            "categories": ["Coffee", "New Roasts"],
                            "tags": ["spring", "Single Origin"]
                        }
                    }]
                }),
            ),
            StatusCode::CREATED,
        )
        .await;
    let post = post["id"].as_str().unwrap().to_owned();
    s.app
        .call(
            s.app.post(
                &format!("{posts}/{post}/submit"),
                &s.owner.access,
                &json!({}),
            ),
            StatusCode::OK,
        )
        .await;
    let at = Utc::now() + Duration::minutes(5);
    s.app
        .call(
            s.app.post(
                &format!("{posts}/{post}/schedule"),
                &s.owner.access,
                &json!({"scheduled_at": at.to_rfc3339()}),
            ),
            StatusCode::OK,
        )
        .await;
    let later = (at + Duration::minutes(1)).naive_utc();
    assert_eq!(run_due(&s.app.state, "w1", later).await.unwrap(), 1);

    let view = s
        .app
        .call(
            s.app.get(&format!("{posts}/{post}"), &s.owner.access),
            StatusCode::OK,
        )
        .await;
    let target = &view["targets"][0];
    assert_eq!(target["status"], "published", "{view}");
    let remote_id = target["remote_id"].as_str().unwrap().to_owned();
    assert_eq!(
        target["remote_url"],
        format!("{}/spring-roast/", s.site.url),
        "{target}"
    );

    // What the site holds.
    let article = s.site.post(&remote_id).await;
    assert_eq!(article["status"], "publish");
    assert_eq!(article["title"]["raw"], "Spring roast");
    assert_eq!(article["excerpt"]["raw"], "Cherry and cocoa");
    let content = article["content"]["raw"].as_str().unwrap();
    assert!(
        content.starts_with("<p>Our <strong>spring</strong> roast is in.<!-- plaza-key-"),
        "{content}"
    );
    let rendered = article["content"]["rendered"].as_str().unwrap();
    assert!(!rendered.contains("<p></p>"), "{rendered}");
    assert_eq!(
        s.site
            .term_names("categories", &article["categories"])
            .await,
        ["Coffee", "New Roasts"]
    );
    assert!(
        article["categories"]
            .as_array()
            .unwrap()
            .contains(&coffee["id"]),
        "the existing category: {article}"
    );
    assert_eq!(
        s.site.term_names("tags", &article["tags"]).await,
        ["Single Origin", "spring"]
    );
    let featured = article["featured_media"].as_u64().unwrap();
    assert!(featured > 0, "{article}");
    let image = s
        .site
        .call(Method::GET, &format!("/media/{featured}"), None)
        .await;
    assert_eq!(image["mime_type"], "image/png");
    assert_eq!(image["media_type"], "image");
    let file = s
        .site
        .client
        .get(image["source_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(
        &file.bytes().await.unwrap()[..8],
        b"\x89PNG\r\n\x1a\n",
        "the uploaded file is served"
    );

    // After a crash the key is found on the site itself, whatever the kv
    // store holds; a key nothing was made under is not.
    let key = format!("plaza-{post}-{}", s.channel);
    for context in [s.context(), s.fresh_context()] {
        let found = s
            .app
            .state
            .plugins
            .find_published(&s.plugin(), context, key.clone())
            .await
            .unwrap()
            .expect("found");
        assert_eq!(found.remote_id, remote_id);
    }
    let missing = s
        .app
        .state
        .plugins
        .find_published(&s.plugin(), s.fresh_context(), "plaza-no-such-key".into())
        .await
        .unwrap();
    assert!(missing.is_none());

    // Publishing again under the key from a channel that remembers nothing
    // answers the article already there; the site gains nothing.
    let again = s
        .app
        .state
        .plugins
        .publish(
            &s.plugin(),
            s.fresh_context(),
            Post {
                text: "# Spring roast\n\nOur **spring** roast is in.".into(),
                media: vec![],
                reply_to: None,
                options: "{}".into(),
                idempotency_key: key.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(again.remote_id, remote_id);
    let (_, all) = s
        .site
        .try_call(
            Method::GET,
            "/posts?status=publish,draft&per_page=100",
            None,
        )
        .await;
    assert_eq!(all.as_array().unwrap().len(), 2, "Hello world! and ours");

    // Deleting moves it to the trash, where the key is still found.
    s.app
        .state
        .plugins
        .delete_post(&s.plugin(), s.context(), remote_id.clone())
        .await
        .unwrap();
    assert_eq!(s.site.post(&remote_id).await["status"], "trash");
    let found = s
        .app
        .state
        .plugins
        .find_published(&s.plugin(), s.fresh_context(), key)
        .await
        .unwrap();
    assert_eq!(found.map(|p| p.remote_id), Some(remote_id));
}

#[actix_web::test]
async fn drafts_and_scheduled_articles_keep_their_status() {
    let s = setup().await;
    let publish = |options: Value, key: &str| Post {
        text: "Planning notes".into(),
        media: vec![],
        reply_to: None,
        options: options.to_string(),
        idempotency_key: key.to_owned(),
    };
    let draft = s
        .app
        .state
        .plugins
        .publish(
            &s.plugin(),
            s.context(),
            publish(json!({"status": "draft", "title": "Notes"}), "k-draft"),
        )
        .await
        .unwrap();
    let draft = s.site.post(&draft.remote_id).await;
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["title"]["raw"], "Notes");

    let when = "2031-05-01T10:00:00+02:00";
    let future = s
        .app
        .state
        .plugins
        .publish(
            &s.plugin(),
            s.context(),
            publish(json!({"status": "future", "date": when}), "k-future"),
        )
        .await
        .unwrap();
    let future = s.site.post(&future.remote_id).await;
    assert_eq!(future["status"], "future");
    assert_eq!(future["date_gmt"], "2031-05-01T08:00:00");
    assert_eq!(future["title"]["raw"], "Planning notes");

    // A `future` post dated in the past is published by WordPress at once.
    let past = s
        .app
        .state
        .plugins
        .publish(
            &s.plugin(),
            s.context(),
            publish(
                json!({"status": "future", "date": "2001-01-01T00:00:00Z"}),
                "k-past",
            ),
        )
        .await
        .unwrap();
    assert_eq!(s.site.post(&past.remote_id).await["status"], "publish");
}

#[actix_web::test]
async fn comments_come_back_from_a_cursor_and_replies_and_moderation_reach_the_site() {
    let s = setup().await;
    let post = s.site.create_post("Hello from the site").await;
    let lovely = s
        .site
        .visitor_comment(&post, "Rita Reader", "Lovely roast", "approved")
        .await;
    let decaf = s
        .site
        .visitor_comment(&post, "Dan", "Is it decaf?", "hold")
        .await;

    let page = s.comments(&post, None).await;
    assert_eq!(texts(&page), ["Lovely roast", "Is it decaf?"], "{page:?}");
    let item = &page.items[0];
    assert_eq!(item.remote_id, lovely);
    assert_eq!(item.author.handle, "Rita Reader");
    assert_eq!(item.author.remote_id, "guest:Rita Reader");
    assert_eq!(item.post_id.as_deref(), Some(post.as_str()));
    assert!(
        item.url
            .as_deref()
            .unwrap()
            .ends_with(&format!("#comment-{lovely}")),
        "{item:?}"
    );
    let cursor = page.next_cursor.clone().expect("a cursor");

    // From the cursor: nothing, then exactly what came after it, even
    // within the same second.
    let again = s.comments(&post, Some(cursor.clone())).await;
    assert!(again.items.is_empty(), "{again:?}");
    assert_eq!(again.next_cursor.as_deref(), Some(cursor.as_str()));
    s.site
        .visitor_comment(&post, "Rita Reader", "Second thought", "approved")
        .await;
    let newer = s.comments(&post, Some(cursor)).await;
    assert_eq!(texts(&newer), ["Second thought"]);

    // Mentions: new comments on any post, the default post's included.
    let mentions = s
        .app
        .state
        .plugins
        .fetch_mentions(&s.plugin(), s.context(), None, 50)
        .await
        .unwrap();
    let all = texts(&mentions);
    assert!(
        all.contains(&"Lovely roast") && all.contains(&"Second thought"),
        "{all:?}"
    );
    assert!(
        mentions
            .items
            .iter()
            .any(|i| i.post_id.as_deref() == Some("1"))
    );

    // A reply from Plaza: approved, under the comment, on its post, and
    // not read back as a comment from others.
    let reply = s
        .app
        .state
        .plugins
        .reply(
            &s.plugin(),
            s.context(),
            lovely.clone(),
            Post {
                text: "Thank you, Rita!".into(),
                media: vec![],
                reply_to: None,
                options: "{}".into(),
                idempotency_key: "plaza-reply-1".into(),
            },
        )
        .await
        .unwrap();
    let on_site = s.site.comment(&reply.remote_id).await;
    assert_eq!(on_site["parent"].as_u64().unwrap().to_string(), lovely);
    assert_eq!(on_site["post"].as_u64().unwrap().to_string(), post);
    assert_eq!(on_site["status"], "approved");
    assert_eq!(on_site["author"].as_u64(), Some(s.site.admin_id));
    assert_eq!(on_site["content"]["raw"], "Thank you, Rita!");
    // The same reply again from a channel that remembers nothing: WordPress
    // refuses a duplicate, and the plugin answers the reply already there.
    let again = s
        .app
        .state
        .plugins
        .reply(
            &s.plugin(),
            s.fresh_context(),
            lovely.clone(),
            Post {
                text: "Thank you, Rita!".into(),
                media: vec![],
                reply_to: None,
                options: "{}".into(),
                idempotency_key: "plaza-reply-1".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(again.remote_id, reply.remote_id);
    let after_reply = s.comments(&post, newer.next_cursor.clone()).await;
    assert!(after_reply.items.is_empty(), "{after_reply:?}");

    // Counts: approved comments on the post (ours included), the site's.
    let metrics = s
        .app
        .state
        .plugins
        .post_metrics(&s.plugin(), s.context(), vec![post.clone()])
        .await
        .unwrap();
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].name, "replies");
    assert_eq!(metrics[0].value, 3.0, "two from Rita and the reply");
    let account = s
        .app
        .state
        .plugins
        .account_metrics(&s.plugin(), s.context())
        .await
        .unwrap();
    let value = |name: &str| account.iter().find(|m| m.name == name).map(|m| m.value);
    assert_eq!(value("posts"), Some(2.0));
    assert_eq!(value("x_comments_pending"), Some(1.0));
    assert_eq!(value("replies"), Some(4.0), "with the default comment");

    // Moderation: hide holds, unhide approves, delete trashes.
    s.moderate(&lovely, Moderation::Hide).await.unwrap();
    assert_eq!(s.site.comment(&lovely).await["status"], "hold");
    s.moderate(&decaf, Moderation::Unhide).await.unwrap();
    assert_eq!(s.site.comment(&decaf).await["status"], "approved");
    s.moderate(&decaf, Moderation::Delete).await.unwrap();
    assert_eq!(s.site.comment(&decaf).await["status"], "trash");
    // A report marks the comment as spam: the host lets a plugin that
    // hides (and blocks no one) report.
    s.moderate(&lovely, Moderation::Report).await.unwrap();
    assert_eq!(s.site.comment(&lovely).await["status"], "spam");
    s.moderate(&lovely, Moderation::Unhide).await.unwrap();
    assert_eq!(s.site.comment(&lovely).await["status"], "approved");
    // The host refuses what WordPress cannot do before the plugin runs.
    assert!(matches!(
        s.moderate(&lovely, Moderation::BlockAuthor).await,
        Err(CallError::Unsupported(_))
    ));
    // A comment that does not exist.
    match s.moderate("999999", Moderation::Hide).await {
        Err(CallError::Plugin(PluginFault::NotFound)) => {}
        other => panic!("{other:?}"),
    }

    // Once the application password is revoked, the site answers 401.
    s.site
        .call(
            Method::DELETE,
            &format!("/users/{}/application-passwords", s.site.admin_id),
            None,
        )
        .await;
    match s.moderate(&lovely, Moderation::Unhide).await {
        Err(CallError::Plugin(PluginFault::Unauthorized(_))) => {}
        other => panic!("a revoked password is unauthorized, got {other:?}"),
    }
}
