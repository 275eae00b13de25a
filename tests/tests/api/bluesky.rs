//! The Bluesky plugin against a real local AT Protocol network
//! (`@atproto/dev-env`): a scheduled post becomes records in the account's
//! repository with byte-exact facets, images as blobs and a thread of reply
//! references; resends and crash lookups find the first post; and, on a
//! full network with an AppView, notifications, threads, counts and
//! moderation come back through the plugin; a like there reaches the
//! post's metrics in Plaza.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use plaza_api::plugins::bindings::{ItemKind, Moderation, Post};
use plaza_api::plugins::{CallContext, LoadedPlugin};
use plaza_api::worker::run_due;
use plaza_tests::bluesky::{Bluesky, BskyAccount};
use plaza_tests::{MultipartForm, Session, TestApp, expect_json, media};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A network, the channel's account (`alice`, signed in with an app
/// password), another account (`bob`), and Plaza with alice connected as a
/// `bluesky` channel.
struct Setup {
    net: Bluesky,
    app: TestApp,
    owner: Session,
    ws: String,
    channel: String,
    alice: BskyAccount,
    app_password: String,
    bob: BskyAccount,
    connected: Value,
}

async fn setup(net: Bluesky) -> Setup {
    let alice = net.create_account("alice").await;
    let bob = net.create_account("bob").await;
    let app_password = net.app_password(&alice, "Plaza").await;
    if net.appview.is_some() {
        // Bob follows alice, so she has a follower to count.
        let follow = json!({
            "repo": bob.did,
            "collection": "app.bsky.graph.follow",
            "record": {
                "$type": "app.bsky.graph.follow",
                "subject": alice.did,
                "createdAt": Utc::now().to_rfc3339(),
            },
        });
        net.call(
            Method::POST,
            "com.atproto.repo.createRecord",
            Some(&bob.access),
            &[],
            Some(follow),
        )
        .await;
        net.process_all().await;
    }

    let app = TestApp::spawn_with_plugins().await;
    let owner = app.signup("owner@example.com").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let connected = app
        .call(
            app.post(
                &format!("/v1/workspaces/{ws}/channels"),
                &owner.access,
                &json!({
                    "plugin_id": "bluesky",
                    "config": {"service": net.pds},
                    "credentials": {"identifier": alice.handle, "app_password": app_password},
                }),
            ),
            StatusCode::CREATED,
        )
        .await;
    let channel = connected["id"].as_str().unwrap().to_owned();
    Setup {
        net,
        app,
        owner,
        ws,
        channel,
        alice,
        app_password,
        bob,
        connected,
    }
}

impl Setup {
    fn plugin(&self) -> std::sync::Arc<LoadedPlugin> {
        self.app
            .state
            .plugins
            .get("bluesky")
            .expect("bluesky plugin loaded")
    }

    fn context(&self) -> CallContext {
        plaza_api::plugins::channels::context(
            &self.channel,
            json!({"service": self.net.pds}),
            HashMap::from([
                ("identifier".to_owned(), self.alice.handle.clone()),
                ("app_password".to_owned(), self.app_password.clone()),
            ]),
        )
    }

    /// Creates, submits and schedules a post, then runs the worker past
    /// its time; answers the post's id.
    async fn publish_through_plaza(&self, body: Value) -> String {
        let posts = format!("/v1/workspaces/{}/posts", self.ws);
        let post = self
            .app
            .call(
                self.app.post(&posts, &self.owner.access, &body),
                StatusCode::CREATED,
            )
            .await;
        let post = post["id"].as_str().unwrap().to_owned();
        self.app
            .call(
                self.app.post(
                    &format!("{posts}/{post}/submit"),
                    &self.owner.access,
                    &json!({}),
                ),
                StatusCode::OK,
            )
            .await;
        let at = Utc::now() + Duration::minutes(5);
        self.app
            .call(
                self.app.post(
                    &format!("{posts}/{post}/schedule"),
                    &self.owner.access,
                    &json!({"scheduled_at": at.to_rfc3339()}),
                ),
                StatusCode::OK,
            )
            .await;
        let later = (at + Duration::minutes(1)).naive_utc();
        assert_eq!(run_due(&self.app.state, "w1", later).await.unwrap(), 1);
        post
    }

    async fn target(&self, post: &str) -> Value {
        let view = self
            .app
            .call(
                self.app.get(
                    &format!("/v1/workspaces/{}/posts/{post}", self.ws),
                    &self.owner.access,
                ),
                StatusCode::OK,
            )
            .await;
        let target = view["targets"][0].clone();
        assert_eq!(target["status"], "published", "{view}");
        target
    }

    async fn publish_directly(&self, text: &str, key: &str) -> String {
        self.app
            .state
            .plugins
            .publish(&self.plugin(), self.context(), text_post(text, key))
            .await
            .unwrap()
            .remote_id
    }
}

fn text_post(text: &str, key: &str) -> Post {
    Post {
        text: text.into(),
        media: vec![],
        reply_to: None,
        options: "{}".into(),
        idempotency_key: key.into(),
    }
}

/// The byte range of `needle` in `text`, as a facet index.
fn byte_range(text: &str, needle: &str) -> Value {
    let start = text.find(needle).unwrap();
    json!({"byteStart": start, "byteEnd": start + needle.len()})
}

#[actix_web::test]
async fn a_scheduled_post_becomes_a_thread_of_records_with_byte_exact_facets() {
    let s = setup(Bluesky::start_pds_only().await).await;
    // Without an AppView there is no profile to count followers from: the
    // check still names the account.
    assert_eq!(
        s.connected["account"]["handle"], "alice.test",
        "{}",
        s.connected
    );
    assert_eq!(s.connected["account"]["id"], s.alice.did.as_str());
    assert_eq!(s.connected["account"]["followers"], Value::Null);

    let text = "Café ☕ with 👨‍👩‍👧 @bob.test: https://example.com/menu. #Rôti!";
    let post = s
        .publish_through_plaza(json!({
            "body": text,
            "variants": [{
                "channel_id": s.channel,
                "follow_ups": [{"text": "Part two 🎉 #Rôti"}]
            }]
        }))
        .await;
    let target = s.target(&post).await;
    let root_uri = target["remote_id"].as_str().unwrap().to_owned();
    let follow_up_uri = target["follow_up_ids"][0].as_str().unwrap().to_owned();
    let rkey = root_uri.rsplit('/').next().unwrap();
    assert!(root_uri.starts_with(&format!("at://{}/app.bsky.feed.post/", s.alice.did)));
    assert_eq!(
        target["remote_url"],
        format!("https://bsky.app/profile/{}/post/{rkey}", s.alice.did)
    );

    // The repository holds the two posts, as written.
    assert_eq!(
        s.net
            .records(&s.alice.did, "app.bsky.feed.post")
            .await
            .len(),
        2
    );
    let root = s.net.record(&root_uri).await.expect("the root post");
    let record = &root["value"];
    assert_eq!(record["text"], text);
    assert!(record.get("reply").is_none());
    assert_eq!(
        record["facets"],
        json!([
            {
                "index": byte_range(text, "@bob.test"),
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": s.bob.did}]
            },
            {
                "index": byte_range(text, "https://example.com/menu"),
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/menu"}]
            },
            {
                "index": byte_range(text, "#Rôti"),
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Rôti"}]
            }
        ])
    );
    let follow_up = s.net.record(&follow_up_uri).await.expect("the follow-up");
    assert_eq!(follow_up["value"]["text"], "Part two 🎉 #Rôti");
    let strong_root = json!({"uri": root_uri, "cid": root["cid"]});
    assert_eq!(
        follow_up["value"]["reply"],
        json!({"root": strong_root, "parent": strong_root})
    );

    // Sending the first part again with its key finds the post already at
    // its key: the repository gains nothing.
    let key = format!("plaza-{post}-{}", s.channel);
    assert_eq!(s.publish_directly(text, &key).await, root_uri);
    assert_eq!(
        s.net
            .records(&s.alice.did, "app.bsky.feed.post")
            .await
            .len(),
        2
    );

    // After a crash the key is found by reading the record at its key, even
    // from a channel whose kv store never saw the publish.
    for channel_id in [s.channel.clone(), "never-seen".to_owned()] {
        let mut context = s.context();
        context.channel_id = Some(channel_id.clone());
        let found = s
            .app
            .state
            .plugins
            .find_published(&s.plugin(), context, key.clone())
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{channel_id}: not found"));
        assert_eq!(found.remote_id, root_uri, "{channel_id}");
    }
    let missing = s
        .app
        .state
        .plugins
        .find_published(&s.plugin(), s.context(), "plaza-no-such-key".into())
        .await
        .unwrap();
    assert!(missing.is_none());

    // Deleting the follow-up removes its record; the root stays.
    s.app
        .state
        .plugins
        .delete_post(&s.plugin(), s.context(), follow_up_uri.clone())
        .await
        .unwrap();
    assert!(s.net.record(&follow_up_uri).await.is_none());
    assert!(s.net.record(&root_uri).await.is_some());
}

#[actix_web::test]
async fn images_are_uploaded_as_blobs_and_replies_answer_another_accounts_thread() {
    let s = setup(Bluesky::start_pds_only().await).await;
    let mut ids = Vec::new();
    for (seed, alt) in [(1_u8, "A flat white"), (2, "The roastery at dawn")] {
        let bytes = media::png(6, 4, seed);
        let form = MultipartForm::new().text("alt_text", alt).file(
            "file",
            "photo.png",
            "image/png",
            &bytes,
        );
        let uploaded = expect_json(
            s.app.upload(&s.owner.access, &s.ws, form).await,
            StatusCode::CREATED,
        )
        .await;
        ids.push((uploaded["id"].as_str().unwrap().to_owned(), bytes));
    }
    let post = s
        .publish_through_plaza(json!({
            "body": "Two photos",
            "media_ids": ids.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
            "variants": [{"channel_id": s.channel}]
        }))
        .await;
    let uri = s.target(&post).await["remote_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let record = s.net.record(&uri).await.unwrap();
    let embed = &record["value"]["embed"];
    assert_eq!(embed["$type"], "app.bsky.embed.images");
    let images = embed["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    for (image, (alt, (_, bytes))) in images
        .iter()
        .zip(["A flat white", "The roastery at dawn"].iter().zip(&ids))
    {
        assert_eq!(image["alt"], *alt);
        assert_eq!(image["aspectRatio"], json!({"width": 6, "height": 4}));
        assert_eq!(image["image"]["mimeType"], "image/png");
        // The blob on the PDS is the very file.
        let cid = image["image"]["ref"]["$link"].as_str().unwrap();
        let blob = s
            .net
            .client
            .get(format!("{}/xrpc/com.atproto.sync.getBlob", s.net.pds))
            .query(&[("did", s.alice.did.as_str()), ("cid", cid)])
            .send()
            .await
            .unwrap();
        assert_eq!(blob.status(), StatusCode::OK);
        assert_eq!(blob.bytes().await.unwrap().as_ref(), bytes.as_slice());
    }

    // Bob starts a thread and answers himself; the plugin's reply to his
    // answer keeps his thread's root.
    let (bob_root, bob_root_cid) = s
        .net
        .create_post(
            &s.bob,
            json!({"$type": "app.bsky.feed.post", "text": "Who roasts here?", "createdAt": Utc::now().to_rfc3339()}),
        )
        .await;
    let root_ref = json!({"uri": bob_root, "cid": bob_root_cid});
    let (bob_answer, bob_answer_cid) = s
        .net
        .create_post(
            &s.bob,
            json!({
                "$type": "app.bsky.feed.post", "text": "Asking for a friend",
                "createdAt": Utc::now().to_rfc3339(),
                "reply": {"root": root_ref, "parent": root_ref}
            }),
        )
        .await;
    let reply = s
        .app
        .state
        .plugins
        .reply(
            &s.plugin(),
            s.context(),
            bob_answer.clone(),
            text_post("We do, @bob.test!", "plaza-reply-1"),
        )
        .await
        .unwrap();
    let record = s.net.record(&reply.remote_id).await.unwrap();
    assert_eq!(
        record["value"]["reply"],
        json!({"root": root_ref, "parent": {"uri": bob_answer, "cid": bob_answer_cid}})
    );
    assert_eq!(
        record["value"]["facets"][0]["features"][0]["did"],
        s.bob.did.as_str()
    );
    let again = s
        .app
        .state
        .plugins
        .reply(
            &s.plugin(),
            s.context(),
            bob_answer,
            text_post("We do, @bob.test!", "plaza-reply-1"),
        )
        .await
        .unwrap();
    assert_eq!(
        again.remote_id, reply.remote_id,
        "the same key, the same reply"
    );
}

#[actix_web::test]
async fn on_a_full_network_notifications_threads_counts_and_moderation_come_back() {
    let s = setup(Bluesky::start_full().await).await;
    assert_eq!(s.connected["account"]["followers"], 1, "{}", s.connected);

    let mine = s
        .publish_directly("Spring roast is in", "plaza-full-1")
        .await;
    // The post is indexed before anyone answers it, as on the real network
    // (the local AppView indexes repositories in parallel, and a reply
    // indexed before its parent notifies no one).
    s.net.process_all().await;
    let mine_record = s.net.record(&mine).await.unwrap();
    let mine_ref = json!({"uri": mine, "cid": mine_record["cid"]});
    let now = || Utc::now().to_rfc3339();
    let (reply, _) = s
        .net
        .create_post(
            &s.bob,
            json!({"$type": "app.bsky.feed.post", "text": "Lovely!", "createdAt": now(),
                   "langs": ["en"], "reply": {"root": mine_ref, "parent": mine_ref}}),
        )
        .await;
    let mention_text = "Ask @alice.test about beans";
    let (mention, _) = s
        .net
        .create_post(
            &s.bob,
            json!({"$type": "app.bsky.feed.post", "text": mention_text, "createdAt": now(),
                   "facets": [{"index": byte_range(mention_text, "@alice.test"),
                               "features": [{"$type": "app.bsky.richtext.facet#mention", "did": s.alice.did}]}]}),
        )
        .await;
    let (quote, _) = s
        .net
        .create_post(
            &s.bob,
            json!({"$type": "app.bsky.feed.post", "text": "Worth a try", "createdAt": now(),
                   "embed": {"$type": "app.bsky.embed.record", "record": mine_ref}}),
        )
        .await;
    for collection in ["app.bsky.feed.like", "app.bsky.feed.repost"] {
        s.net
            .call(
                Method::POST,
                "com.atproto.repo.createRecord",
                Some(&s.bob.access),
                &[],
                Some(json!({"repo": s.bob.did, "collection": collection,
                            "record": {"$type": collection, "subject": mine_ref, "createdAt": now()}})),
            )
            .await;
    }
    s.net.process_all().await;

    // Notifications: the reply, the mention and the quote; not the like,
    // the repost or the follow.
    let page = s
        .app
        .state
        .plugins
        .fetch_mentions(&s.plugin(), s.context(), None, 50)
        .await
        .unwrap();
    let mut seen: Vec<(String, ItemKind, String)> = page
        .items
        .iter()
        .map(|i| (i.remote_id.clone(), i.kind, i.text.clone()))
        .collect();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected = vec![
        (reply.clone(), ItemKind::Comment, "Lovely!".to_owned()),
        (mention.clone(), ItemKind::Mention, mention_text.to_owned()),
        (quote.clone(), ItemKind::Mention, "Worth a try".to_owned()),
    ];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(seen, expected, "{page:?}");
    let as_reply = page.items.iter().find(|i| i.remote_id == reply).unwrap();
    assert_eq!(as_reply.author.remote_id, s.bob.did);
    assert_eq!(as_reply.author.handle, "bob.test");
    assert_eq!(as_reply.parent_id.as_deref(), Some(mine.as_str()));
    assert_eq!(as_reply.post_id.as_deref(), Some(mine.as_str()));
    assert_eq!(as_reply.lang.as_deref(), Some("en"));

    // Comments under the post: bob's reply; then alice answers it.
    let comments = s
        .app
        .state
        .plugins
        .fetch_comments(&s.plugin(), s.context(), mine.clone(), None, 50)
        .await
        .unwrap();
    let ids: Vec<&str> = comments
        .items
        .iter()
        .map(|i| i.remote_id.as_str())
        .collect();
    assert_eq!(ids, [reply.as_str()]);
    let answer = s
        .app
        .state
        .plugins
        .reply(
            &s.plugin(),
            s.context(),
            reply.clone(),
            text_post("Thank you!", "plaza-full-2"),
        )
        .await
        .unwrap();
    s.net.process_all().await;
    let comments = s
        .app
        .state
        .plugins
        .fetch_comments(&s.plugin(), s.context(), mine.clone(), None, 50)
        .await
        .unwrap();
    assert_eq!(
        comments.items.len(),
        1,
        "alice's own answer is not a comment"
    );

    // Counts from the AppView.
    let metrics = s
        .app
        .state
        .plugins
        .post_metrics(&s.plugin(), s.context(), vec![mine.clone()])
        .await
        .unwrap();
    let value = |name: &str| {
        metrics
            .iter()
            .find(|m| m.name == name && m.post_id.as_deref() == Some(mine.as_str()))
            .map(|m| m.value)
    };
    assert_eq!(value("likes"), Some(1.0));
    assert_eq!(value("reposts"), Some(1.0));
    assert_eq!(value("replies"), Some(1.0), "replies count direct replies");
    assert_eq!(value("quotes"), Some(1.0));
    let account = s
        .app
        .state
        .plugins
        .account_metrics(&s.plugin(), s.context())
        .await
        .unwrap();
    let account_value = |name: &str| account.iter().find(|m| m.name == name).map(|m| m.value);
    assert_eq!(account_value("followers"), Some(1.0));
    assert_eq!(account_value("posts"), Some(2.0), "the post and the answer");
    assert!(answer.remote_id.starts_with("at://"));

    // Moderation: mute and block bob, report his reply.
    for action in [
        Moderation::MuteAuthor,
        Moderation::BlockAuthor,
        Moderation::Report,
    ] {
        s.app
            .state
            .plugins
            .moderate(&s.plugin(), s.context(), reply.clone(), action)
            .await
            .unwrap_or_else(|err| panic!("{action:?}: {err:?}"));
    }
    // Hiding bob's reply lists it in the thread's gate; showing it again
    // takes it out.
    s.app
        .state
        .plugins
        .moderate(&s.plugin(), s.context(), reply.clone(), Moderation::Hide)
        .await
        .unwrap();
    let gate_uri = format!(
        "at://{}/app.bsky.feed.threadgate/{}",
        s.alice.did,
        mine.rsplit('/').next().unwrap()
    );
    let gate = s.net.record(&gate_uri).await.expect("a thread gate");
    assert_eq!(gate["value"]["post"], mine.as_str());
    assert_eq!(gate["value"]["hiddenReplies"], json!([reply]));
    s.app
        .state
        .plugins
        .moderate(&s.plugin(), s.context(), reply.clone(), Moderation::Unhide)
        .await
        .unwrap();
    let gate = s.net.record(&gate_uri).await.expect("a thread gate");
    assert_eq!(gate["value"]["hiddenReplies"], json!([]));

    let blocks = s.net.records(&s.alice.did, "app.bsky.graph.block").await;
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0]["value"]["subject"], s.bob.did.as_str());
    let session = s
        .net
        .call(
            Method::POST,
            "com.atproto.server.createSession",
            None,
            &[],
            Some(json!({"identifier": s.alice.handle, "password": s.alice.password})),
        )
        .await;
    let token = session["accessJwt"].as_str().unwrap();
    s.net.process_all().await;
    let mutes = s
        .net
        .call(
            Method::GET,
            "app.bsky.graph.getMutes",
            Some(token),
            &[],
            None,
        )
        .await;
    let muted: Vec<&str> = mutes["mutes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["did"].as_str().unwrap())
        .collect();
    assert_eq!(muted, [s.bob.did.as_str()]);
}

/// A like and a repost by another account on the local network reach the
/// post's numbers in Plaza through collection, and a report counts them
/// on the day they came.
#[actix_web::test]
async fn a_like_on_the_network_shows_up_in_the_posts_metrics() {
    let s = setup(Bluesky::start_full().await).await;
    let post = s
        .publish_through_plaza(json!({
            "body": "Fresh beans today",
            "variants": [{"channel_id": s.channel}],
        }))
        .await;
    let target = s.target(&post).await;
    let uri = target["remote_id"].as_str().unwrap().to_owned();
    s.net.process_all().await;

    let ws_path = |rest: &str| format!("/v1/workspaces/{}/{rest}", s.ws);
    let collect = || async {
        s.app
            .call(
                s.app.post(
                    &ws_path(&format!("channels/{}/metrics/collect", s.channel)),
                    &s.owner.access,
                    &json!({}),
                ),
                StatusCode::OK,
            )
            .await
    };
    let app = &s.app;
    let get = |rest: String| {
        let request = app.get(&ws_path(&rest), &s.owner.access);
        async move { app.call(request, StatusCode::OK).await }
    };
    let numbers = || get(format!("posts/{post}/metrics"));

    let read = collect().await;
    assert_eq!(read["posts_read"], 1, "{read}");
    assert_eq!(read["account_read"], true, "{read}");
    assert!(read["error"].is_null(), "{read}");
    let before = numbers().await;
    assert_eq!(before["totals"]["likes"], 0.0, "{before}");

    let record = s.net.record(&uri).await.unwrap();
    let subject = json!({"uri": uri, "cid": record["cid"]});
    for collection in ["app.bsky.feed.like", "app.bsky.feed.repost"] {
        s.net
            .call(
                Method::POST,
                "com.atproto.repo.createRecord",
                Some(&s.bob.access),
                &[],
                Some(json!({"repo": s.bob.did, "collection": collection,
                            "record": {"$type": collection, "subject": subject,
                                       "createdAt": Utc::now().to_rfc3339()}})),
            )
            .await;
    }
    s.net.process_all().await;

    let read = collect().await;
    assert!(read["error"].is_null(), "{read}");
    let after = numbers().await;
    assert_eq!(after["totals"]["likes"], 1.0, "{after}");
    assert_eq!(after["totals"]["reposts"], 1.0, "{after}");
    assert_eq!(after["channels"][0]["channel_id"], s.channel.as_str());

    let today = Utc::now().date_naive();
    let day = format!(
        "from={today}T00:00:00Z&to={}T00:00:00Z",
        today + Duration::days(1)
    );
    let report = get(format!(
        "metrics/report?metric=engagements&group_by=post&{day}"
    ))
    .await;
    assert_eq!(report["overall"]["total"], 2.0, "{report}");
    assert_eq!(report["groups"][0]["key"], post.as_str(), "{report}");
    let followers = get(format!(
        "metrics/report?metric=followers&measure=total&{day}"
    ))
    .await;
    assert_eq!(
        followers["overall"]["total"], 1.0,
        "bob follows alice: {followers}"
    );
}
