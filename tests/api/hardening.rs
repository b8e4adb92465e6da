//! What an attacker, an outage and a second terminal do to the service (issue 16): each
//! test here failed before its fix.

use serde_json::{Value, json};

use crate::helpers::{TestAppBuilder, assert_problem, published_therapist};

fn inquiry() -> Value {
    json!({
        "name": "Sam Rivera",
        "email": "sam.rivera@client.example",
        "message": "Do you have an opening on Tuesdays?",
        "preferred_contact": "email",
        "consent": true,
    })
}

#[tokio::test]
async fn honeypot_submissions_cannot_close_a_listings_inbox() {
    let app = TestAppBuilder::default()
        .env("APP_TRUSTED_PROXIES", "127.0.0.1")
        .spawn()
        .await;
    let (_, _, slug) = published_therapist(&app, "inbox@example.com").await;
    let send = |ip: String, body: Value| {
        let app = &app;
        let path = format!("/v1/therapists/{slug}/inquiries");
        async move {
            app.client
                .post(app.url(&path))
                .header("x-forwarded-for", ip)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let mut bot = inquiry();
    bot["website"] = json!("http://spam.example");
    // More bot submissions than the listing's daily quota (30), from many addresses.
    for i in 0..35 {
        let answer = send(format!("198.51.100.{i}"), bot.clone()).await;
        assert_eq!(answer.status(), 202, "bot {i} is answered like anyone");
    }
    let real = send("203.0.113.50".to_owned(), inquiry()).await;
    assert_eq!(
        real.status(),
        202,
        "a real client still reaches the therapist"
    );
    app.email_to("inbox@example.com", "inquiry").await;
    // The bot's own address is still limited.
    for _ in 0..5 {
        send("198.51.100.200".to_owned(), bot.clone()).await;
    }
    assert_problem(
        send("198.51.100.200".to_owned(), bot.clone()).await,
        429,
        "rate_limited",
    )
    .await;
}

#[tokio::test]
async fn a_database_outage_is_503_and_no_acknowledged_write_is_lost() {
    let app = TestAppBuilder::default().through_proxy().spawn().await;
    let admin = crate::helpers::access(&app.admin("outage-admin@example.com").await);
    let proxy = app.proxy.as_ref().unwrap();
    let started = std::time::Instant::now();
    let mut acknowledged = Vec::new();
    let mut statuses = Vec::new();
    let mut cut = false;
    let mut restored_at = None;
    let mut i = 0;
    // A stream of writes: the database goes away after 1 s for 7 s (longer than the pool's
    // 5 s acquire timeout), then comes back; the stream goes on for 8 s more.
    while started.elapsed() < std::time::Duration::from_secs(16) {
        let elapsed = started.elapsed().as_secs_f64();
        if !cut && elapsed > 1.0 {
            proxy.set_enabled(false);
            cut = true;
        }
        if cut && restored_at.is_none() && elapsed > 8.0 {
            proxy.set_enabled(true);
            restored_at = Some(std::time::Instant::now());
        }
        let slug = format!("outage-{i}");
        i += 1;
        let response = app
            .post_as(
                "/v1/admin/modalities",
                &admin,
                &json!({"slug": slug, "name": format!("Outage {slug}")}),
            )
            .await;
        let status = response.status().as_u16();
        if status == 503 {
            assert!(response.headers().get("retry-after").is_some());
            assert_problem(response, 503, "service_unavailable").await;
        } else {
            assert_eq!(
                status,
                201,
                "write {slug}: {}",
                response.text().await.unwrap()
            );
            acknowledged.push(slug);
        }
        statuses.push((
            elapsed,
            status,
            restored_at.map(|r| r.elapsed().as_secs_f64()),
        ));
    }
    assert!(
        statuses.iter().any(|s| s.1 == 503),
        "the outage was never seen: {statuses:?}"
    );
    // Recovered by itself within 5 s of the database coming back.
    let recovered = statuses
        .iter()
        .filter(|s| s.2.is_some_and(|since| since > 5.0))
        .all(|s| s.1 == 201);
    assert!(
        recovered,
        "still failing 5 s after the database came back: {statuses:?}"
    );
    for slug in &acknowledged {
        let stored: bool =
            sqlx::query_scalar("select exists (select 1 from modality where slug = $1)")
                .bind(slug)
                .fetch_one(&app.db)
                .await
                .unwrap();
        assert!(stored, "{slug} was acknowledged but is not stored");
    }
}

#[tokio::test]
async fn made_up_methods_cannot_grow_the_metrics() {
    let app = crate::helpers::spawn_app().await;
    let size = |app: &'_ crate::helpers::TestApp| {
        let url = app.url("/metrics");
        let client = reqwest::Client::new();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let before = size(&app).await;
    let client = reqwest::Client::new();
    for i in 0..200 {
        let method = reqwest::Method::from_bytes(format!("PROBE{i}").as_bytes()).unwrap();
        client
            .request(method, app.url("/v1/therapists"))
            .send()
            .await
            .unwrap();
    }
    let after = size(&app).await;
    assert!(!after.contains("PROBE"), "a made-up method became a label");
    assert!(after.contains("method=\"other\""));
    assert!(
        after.len() < before.len() + 8 * 1024,
        "/metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
}

#[tokio::test]
async fn metrics_can_live_on_their_own_address() {
    let app = TestAppBuilder::default()
        .env("APP_METRICS_ADDR", "127.0.0.1:0")
        .spawn()
        .await;
    assert_problem(app.get("/metrics").await, 404, "not_found").await;
    let port = app.metrics_port.expect("a metrics listener");
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
}

#[tokio::test]
async fn licenses_certifications_and_offerings_are_capped() {
    let app = crate::helpers::spawn_app().await;
    let token = crate::helpers::access(&app.verified_therapist("caps@example.com").await);
    type Body = Box<dyn Fn(usize) -> Value>;
    let cases: [(&str, usize, Body); 3] = [
        (
            "licenses",
            20,
            Box::new(|i| json!({"type": "LPC", "number": format!("CAP{i}"), "state": "NC"})),
        ),
        (
            "certifications",
            30,
            Box::new(|i| json!({"name": format!("Cert {i}"), "issuer": "Institute"})),
        ),
        (
            "offerings",
            50,
            Box::new(|i| {
                json!({"kind": "workshop", "title": format!("Workshop {i}"), "format": "online",
                       "price": {"amount_cents": 5000, "currency": "USD"}, "duration_minutes": 90})
            }),
        ),
    ];
    for (collection, max, body) in cases {
        let path = format!("/v1/me/listing/{collection}");
        for i in 0..max {
            let created = app.post_as(&path, &token, &body(i)).await;
            assert_eq!(
                created.status(),
                201,
                "{collection} {i}: {}",
                created.text().await.unwrap()
            );
        }
        let problem = assert_problem(
            app.post_as(&path, &token, &body(max)).await,
            422,
            "limit_reached",
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], collection);
    }
}

/// Arbitrary JSON: scalars, strings with any characters, nested arrays and objects whose
/// keys are sometimes the body's own field names.
fn arbitrary_json(names: Vec<String>) -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let key = prop_oneof![proptest::sample::select(names), any::<String>()];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[tokio::test]
async fn arbitrary_json_on_every_write_route_is_an_error_never_a_crash() {
    use proptest::strategy::{Strategy, ValueTree};
    let app = crate::helpers::spawn_app().await;
    let therapist = crate::helpers::access(&app.verified_therapist("fuzz@example.com").await);
    let admin = crate::helpers::access(&app.admin("fuzz-admin@example.com").await);
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut sent = 0;
    for route in crate::contract::CONTRACT.write_routes() {
        let names: Vec<String> = route.schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_else(|| vec!["x".to_owned()]);
        let strategy = arbitrary_json(names);
        for _ in 0..24 {
            let value = strategy.new_tree(&mut runner).unwrap().current();
            // The contract client fails the test on an undocumented answer; a 5xx is
            // refused here whatever the document says.
            let status = app
                .send_to(&route, &therapist, &admin, value.to_string())
                .await
                .status();
            assert!(
                status.as_u16() < 500,
                "{} {} with {value}: {status}",
                route.method,
                route.template
            );
            sent += 1;
        }
    }
    assert!(sent >= 24 * 25, "only {sent} bodies sent");
}

#[tokio::test]
async fn admins_decide_on_the_version_they_reviewed() {
    let app = crate::helpers::spawn_app().await;
    let admin = crate::helpers::access(&app.admin("reviewer@example.com").await);
    let therapist = crate::helpers::access(
        &crate::helpers::submitted_therapist(&app, "swap@example.com").await,
    );
    let mine: Value = app.my_listing(&therapist).await.json().await.unwrap();
    let id = mine["id"].as_str().unwrap().to_owned();
    let license = mine["licenses"][0]["id"].as_str().unwrap().to_owned();
    let read = app.admin_listing(&admin, &id).await;
    let reviewed = read.headers()["etag"].to_str().unwrap().to_owned();

    // The therapist changes the listing after the admin read it.
    let edit = json!({"statement": "Something else entirely than what the admin reviewed, long enough to be a statement of practice and approach."});
    assert_eq!(
        app.patch_listing(&therapist, &edit, None).await.status(),
        200
    );
    let decide = |path: String, tag: Option<String>, body: Value| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let mut request = app
                .client
                .post(app.url(&path))
                .bearer_auth(&admin)
                .json(&body);
            if let Some(tag) = tag {
                request = request.header("if-match", tag);
            }
            request.send().await.unwrap()
        }
    };
    let approve = format!("/v1/admin/listings/{id}/approve");
    let verify = format!("/v1/admin/licenses/{license}/verify");
    let verified = json!({"status": "verified"});
    assert_problem(
        decide(approve.clone(), None, json!({})).await,
        428,
        "precondition_required",
    )
    .await;
    assert_problem(
        decide(approve.clone(), Some("*".into()), json!({})).await,
        428,
        "precondition_required",
    )
    .await;
    assert_problem(
        decide(approve.clone(), Some(reviewed.clone()), json!({})).await,
        412,
        "precondition_failed",
    )
    .await;
    assert_problem(
        decide(verify.clone(), Some(reviewed.clone()), verified.clone()).await,
        412,
        "precondition_failed",
    )
    .await;
    assert_problem(
        decide(
            format!("/v1/admin/listings/{id}/reject"),
            Some(reviewed),
            json!({"reason": "x"}),
        )
        .await,
        412,
        "precondition_failed",
    )
    .await;

    // Read again, decide on what was read; each answer carries the next tag.
    let current = app.admin_listing(&admin, &id).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let verified_answer = decide(verify, Some(current), verified).await;
    assert_eq!(verified_answer.status(), 200);
    let next = verified_answer.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let approved = decide(approve, Some(next), json!({})).await;
    assert_eq!(approved.status(), 200);

    // Published and verified; a new name removes the verification until checked again.
    let mine: Value = app.my_listing(&therapist).await.json().await.unwrap();
    assert_eq!(mine["licenses"][0]["verification_status"], "verified");
    let renamed = json!({"display_name": "Someone Else Entirely"});
    assert_eq!(
        app.patch_listing(&therapist, &renamed, None).await.status(),
        200
    );
    let mine: Value = app.my_listing(&therapist).await.json().await.unwrap();
    assert_eq!(mine["licenses"][0]["verification_status"], "unverified");
    let verified_anywhere: bool = sqlx::query_scalar(
        "select exists (select 1 from license where listing_id = $1::uuid and verification_status = 'verified')",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(!verified_anywhere);
}

/// Every text value of every row of every table of the application's schema, as a backup
/// of the database would hold them.
async fn database_dump(db: &sqlx::PgPool) -> String {
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables
         where table_schema = 'public' and table_type = 'BASE TABLE'",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut dump = String::new();
    for table in tables {
        let sql = format!("select coalesce(string_agg(t::text, E'\\n'), '') from \"{table}\" t");
        let rows: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(db)
            .await
            .unwrap();
        dump.push_str(&rows);
        dump.push('\n');
    }
    dump
}

#[tokio::test]
async fn no_sign_in_link_is_readable_from_the_database() {
    let app = crate::helpers::spawn_app().await;
    app.verified_therapist("secret@example.com").await;
    let requested = app
        .request_password_reset(&json!({"email": "secret@example.com"}))
        .await;
    assert_eq!(requested.status(), 202);
    let mail = app.email_to("secret@example.com", "Reset").await;
    let token = crate::helpers::token_in(&mail);
    assert!(token.len() >= 20);
    // Delivered: the body with the link is gone at once.
    let mut dump = database_dump(&app.db).await;
    for _ in 0..40 {
        if !dump.contains(&token) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        dump = database_dump(&app.db).await;
    }
    assert!(
        !dump.contains(&token),
        "the reset token is readable in the database"
    );
    // The verification link of the signup, delivered earlier, is gone too.
    assert!(!dump.contains("verify-email?token="));
    assert!(!dump.contains("reset-password?token="));
}

/// A mail server that stalls for `stall` on messages to `slow`, refuses messages to
/// `refused`, and records every message it accepted.
struct Recording {
    stall: std::time::Duration,
    slow: &'static str,
    refused: &'static str,
    accepted: std::sync::Mutex<Vec<String>>,
}

impl therapist_directory::mail::transport::Mailer for Recording {
    fn send<'a>(
        &'a self,
        email: &'a therapist_directory::mail::OutgoingEmail,
    ) -> therapist_directory::mail::transport::SendFuture<'a> {
        Box::pin(async move {
            if email.to == self.slow {
                tokio::time::sleep(self.stall).await;
            }
            if email.to == self.refused {
                anyhow::bail!("550 mailbox unavailable (simulated)");
            }
            self.accepted.lock().unwrap().push(email.to.clone());
            Ok(())
        })
    }
}

async fn queue(app: &crate::helpers::TestApp, to: &str) {
    let mut conn = app.db.acquire().await.unwrap();
    therapist_directory::mail::enqueue(
        &mut conn,
        &therapist_directory::mail::OutgoingEmail {
            to: to.to_owned(),
            reply_to: None,
            subject: "Outbox test".to_owned(),
            body: "Hello".to_owned(),
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_stalled_mail_server_holds_no_transaction_and_a_failure_resends_nothing_else() {
    let mailer = std::sync::Arc::new(Recording {
        stall: std::time::Duration::from_secs(2),
        slow: "slow@example.com",
        refused: "refused@example.com",
        accepted: Default::default(),
    });
    let app = TestAppBuilder::default()
        .mailer(mailer.clone())
        .spawn()
        .await;
    for to in [
        "first@example.com",
        "slow@example.com",
        "refused@example.com",
        "last@example.com",
    ] {
        queue(&app, to).await;
    }
    // While the slow message is being sent, no connection of the service sits in a
    // transaction.
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let in_transaction: i64 = sqlx::query_scalar(
        "select count(*) from pg_stat_activity
         where datname = current_database() and application_name = 'therapist-directory'
           and state like 'idle in transaction%'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(in_transaction, 0, "a send holds a transaction open");
    let leased: i64 = sqlx::query_scalar(
        "select count(*) from outbox_email where locked_until > now() and sent_at is null",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(leased >= 1, "messages being sent are leased");
    // Once done: every good message went out exactly once, the refused one is scheduled
    // for a retry on its own.
    for _ in 0..100 {
        if mailer.accepted.lock().unwrap().len() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut accepted = mailer.accepted.lock().unwrap().clone();
    accepted.sort();
    assert_eq!(
        accepted,
        ["first@example.com", "last@example.com", "slow@example.com"],
        "each accepted message was sent once"
    );
    let (attempts, sent): (i32, bool) = sqlx::query_as(
        "select attempts, sent_at is not null from outbox_email where to_address = 'refused@example.com'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(attempts >= 1 && !sent);
}

#[tokio::test]
async fn an_undeliverable_link_is_not_kept_past_its_life() {
    let mailer = std::sync::Arc::new(Recording {
        stall: std::time::Duration::ZERO,
        slow: "-",
        refused: "stuck@example.com",
        accepted: Default::default(),
    });
    let app = TestAppBuilder::default().mailer(mailer).spawn().await;
    assert_eq!(
        app.signup(
            "stuck@example.com",
            crate::helpers::PASSWORD,
            "Stuck Person"
        )
        .await
        .status(),
        202
    );
    let pending = |app: &'_ crate::helpers::TestApp| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "select count(*) from outbox_email where to_address = 'stuck@example.com'",
            )
            .fetch_one(&db)
            .await
            .unwrap()
        }
    };
    assert_eq!(pending(&app).await, 1);
    // The link's life ends (24 h, brought forward here): the message goes, unsent.
    sqlx::query("update outbox_email set discard_after = now() - interval '1 second', next_attempt_at = now() where to_address = 'stuck@example.com'")
        .execute(&app.db)
        .await
        .unwrap();
    for _ in 0..100 {
        if pending(&app).await == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(pending(&app).await, 0, "an expired link is still stored");
}

#[tokio::test]
async fn one_failing_maintenance_step_does_not_stop_inquiry_retention() {
    use therapist_directory::maintenance::{self, MaintenanceSettings};
    let app = crate::helpers::spawn_app().await;
    let (_, listing_id, _) = published_therapist(&app, "maintained@example.com").await;
    let inquiry = crate::helpers::data::inquiry(&app.db, listing_id).await;
    // Due for a reminder, with an inquiry past retention.
    sqlx::query("update listing set last_confirmed_at = now() - interval '61 days' where id = $1")
        .bind(listing_id)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("update inquiry set created_at = now() - interval '400 days' where id = $1")
        .bind(inquiry)
        .execute(&app.db)
        .await
        .unwrap();
    // The reminder step fails (as on a statement timeout).
    sqlx::raw_sql(
        "create function refuse_reminders() returns trigger language plpgsql as $$
         begin
             if new.confirm_reminder_sent_at is distinct from old.confirm_reminder_sent_at then
                 raise exception 'simulated failure of the reminder step';
             end if;
             return new;
         end $$;
         create trigger refuse_reminders before update on listing
             for each row execute function refuse_reminders();",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let settings = MaintenanceSettings {
        interval: std::time::Duration::ZERO,
        inquiry_retention: time::Duration::days(180),
        public_base_url: app.public_base_url.clone(),
    };
    let report = maintenance::run_once(&app.db, &app.clock, &settings)
        .await
        .expect("the pass itself completes");
    assert!(report.ran);
    assert_eq!(report.failed_steps, ["reminders"], "{report:?}");
    assert_eq!(report.inquiries_deleted, 1, "{report:?}");
    let left: i64 = sqlx::query_scalar("select count(*) from inquiry where id = $1")
        .bind(inquiry)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    // The lock is released: the next pass runs.
    assert!(
        maintenance::run_once(&app.db, &app.clock, &settings)
            .await
            .unwrap()
            .ran
    );
}

#[tokio::test]
async fn one_network_cannot_mark_listings_unconfirmed_or_smear_many() {
    let app = TestAppBuilder::default()
        .env("APP_TRUSTED_PROXIES", "127.0.0.0/8")
        .spawn()
        .await;
    let (_, _, slug) = published_therapist(&app, "smeared@example.com").await;
    let report = |ip: &'static str, slug: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url(&format!("/v1/therapists/{slug}/reports")))
                .header("forwarded", format!("for={ip}"))
                .json(&json!({"reason": "unreachable"}))
                .send()
                .await
                .unwrap()
        }
    };
    // Three addresses of one /24: one reporter.
    for ip in ["198.51.100.1", "198.51.100.2", "198.51.100.3"] {
        assert_eq!(report(ip, slug.clone()).await.status(), 202);
    }
    let profile: Value = app.profile(&slug).await.json().await.unwrap();
    assert_eq!(profile["availability"]["confirmed"], true);
    // Rotating through one IPv6 /64 is one client too, for the hourly budget.
    for i in 0..5 {
        let ip: &'static str = Box::leak(format!("\"[2001:db8:7:7::{i}]\"").into_boxed_str());
        assert_eq!(report(ip, slug.clone()).await.status(), 202);
    }
    assert_problem(
        report("\"[2001:db8:7:7::99]\"", slug.clone()).await,
        429,
        "rate_limited",
    )
    .await;
    // One network's reports across listings are capped for the day.
    let mut others = Vec::new();
    for i in 0..6 {
        others.push(
            published_therapist(&app, &format!("other{i}@example.com"))
                .await
                .2,
        );
    }
    let mut refused = false;
    for (n, other) in others.iter().enumerate() {
        // Different addresses (and hours' budgets) within one /24.
        let ip: &'static str = Box::leak(format!("203.0.113.{}", 10 + n).into_boxed_str());
        let status = report(ip, other.clone()).await.status();
        refused |= status == 429;
    }
    let ip_left = [
        "203.0.113.40",
        "203.0.113.41",
        "203.0.113.42",
        "203.0.113.43",
        "203.0.113.44",
    ];
    for ip in ip_left {
        refused |= report(ip, others[0].clone()).await.status() == 429;
    }
    assert!(
        refused,
        "one /24 reported 11 times in a day without a limit"
    );
}

#[tokio::test]
async fn someone_elses_guesses_never_lock_the_owner_out() {
    let app = TestAppBuilder::default()
        .env("APP_TRUSTED_PROXIES", "127.0.0.0/8")
        .spawn()
        .await;
    app.verified_therapist("owner@example.com").await;
    let login = |ip: String, password: &'static str| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/v1/auth/login"))
                .header("x-forwarded-for", ip)
                .json(&json!({"email": "owner@example.com", "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    // Five wrong guesses from one network: that network waits.
    for _ in 0..5 {
        assert_eq!(
            login("203.0.113.66".into(), "wrong guess here")
                .await
                .status(),
            401
        );
    }
    assert_problem(
        login("203.0.113.66".into(), crate::helpers::PASSWORD).await,
        429,
        "rate_limited",
    )
    .await;
    // The owner, elsewhere, signs in.
    assert_eq!(
        login("198.51.100.20".into(), crate::helpers::PASSWORD)
            .await
            .status(),
        200
    );

    // A hundred failures in a day (the five above included) from many networks, none of
    // them waiting: sign-in then needs a reset by email.
    for n in 0..95 {
        let status = login(format!("192.0.2.{}", n / 4), "wrong guess here")
            .await
            .status();
        assert_eq!(status, 401, "failure {}", n + 6);
    }
    let refused = assert_problem(
        login("198.51.100.21".into(), crate::helpers::PASSWORD).await,
        429,
        "rate_limited",
    )
    .await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("reset the password")
    );
    let reset = app
        .request_password_reset(&json!({"email": "owner@example.com"}))
        .await;
    assert_eq!(reset.status(), 202);
    let token = crate::helpers::token_in(&app.email_to("owner@example.com", "Reset").await);
    let confirmed = app
        .confirm_password_reset(
            &json!({"token": token, "new_password": "a fresh and private phrase"}),
        )
        .await;
    assert_eq!(confirmed.status(), 204);
    let again = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("x-forwarded-for", "198.51.100.21")
        .json(&json!({"email": "owner@example.com", "password": "a fresh and private phrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200, "the reset unlocks sign-in");
}

#[tokio::test]
async fn rotating_the_master_secret_signs_nobody_out_and_breaks_no_cursor() {
    let old_secret = crate::helpers::TEST_JWT_SECRET;
    let new_secret = "a-new-master-secret-a-new-master-secret-0123";
    let app = crate::helpers::spawn_app().await;
    for i in 0..3 {
        crate::helpers::data::listing(&app.db, &format!("rotation-{i}"), "published").await;
    }
    let token = crate::helpers::access(&app.verified_therapist("rotated@example.com").await);
    let page: Value = app.search("limit=1").await.json().await.unwrap();
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();

    let rotated = TestAppBuilder::default()
        .database(app.database.clone())
        .env("APP_JWT_SECRET", new_secret)
        .env("APP_JWT_PREVIOUS_SECRET", old_secret)
        .spawn()
        .await;
    assert_eq!(rotated.me(&token).await.status(), 200);
    let next = rotated.search(&format!("limit=1&cursor={cursor}")).await;
    assert_eq!(next.status(), 200);

    // Once the previous secret is dropped, its tokens and cursors are refused.
    let after = TestAppBuilder::default()
        .database(app.database.clone())
        .env("APP_JWT_SECRET", new_secret)
        .spawn()
        .await;
    assert_problem(after.me(&token).await, 401, "invalid_token").await;
    assert_problem(
        after.search(&format!("limit=1&cursor={cursor}")).await,
        400,
        "invalid_cursor",
    )
    .await;
}

#[tokio::test]
async fn admins_need_a_second_factor_and_sign_in_with_it() {
    let app = crate::helpers::spawn_app().await;
    // An admin who has not enrolled is refused every admin route.
    let passwords = therapist_directory::auth::password::Passwords::new(19456, 2, 1, 1).unwrap();
    therapist_directory::auth::admin::create_admin(
        &app.db,
        &passwords,
        "bare-admin@example.com",
        "Bare Admin",
        crate::helpers::PASSWORD,
    )
    .await
    .unwrap();
    let bare = crate::helpers::access(
        &app.login("bare-admin@example.com", crate::helpers::PASSWORD)
            .await
            .json::<Value>()
            .await
            .unwrap(),
    );
    for path in [
        "/v1/admin/listings",
        "/v1/admin/audit-log",
        "/v1/admin/accounts",
    ] {
        assert_problem(
            app.get_as(path, &bare).await,
            403,
            "mfa_enrollment_required",
        )
        .await;
    }

    // An enrolled admin's password alone earns a challenge, not tokens.
    app.admin("mfa-admin@example.com").await;
    let secret = crate::helpers::TestApp::totp_secret("mfa-admin@example.com");
    let challenge = assert_problem(
        app.login("mfa-admin@example.com", crate::helpers::PASSWORD)
            .await,
        401,
        "mfa_required",
    )
    .await;
    let mfa_token = challenge["mfa_token"].as_str().unwrap().to_owned();
    let second = |token: String, code: String| {
        let app = &app;
        async move {
            app.login_second_factor(&json!({"mfa_token": token, "code": code}))
                .await
        }
    };
    assert_problem(
        second(mfa_token.clone(), "000000".into()).await,
        401,
        "invalid_credentials",
    )
    .await;
    // The confirmation used this step's code: the next step's signs in.
    let signed_in = second(mfa_token.clone(), app.totp_code(&secret, 1)).await;
    assert_eq!(signed_in.status(), 200);
    let tokens: Value = signed_in.json().await.unwrap();
    let admin = crate::helpers::access(&tokens);
    assert_eq!(app.get_as("/v1/admin/listings", &admin).await.status(), 200);
    // The challenge is spent, and a code works once.
    assert_problem(
        second(mfa_token, app.totp_code(&secret, 1)).await,
        400,
        "invalid_or_expired_token",
    )
    .await;
    let again = assert_problem(
        app.login("mfa-admin@example.com", crate::helpers::PASSWORD)
            .await,
        401,
        "mfa_required",
    )
    .await;
    let again = again["mfa_token"].as_str().unwrap().to_owned();
    assert_problem(
        second(again.clone(), app.totp_code(&secret, 1)).await,
        401,
        "invalid_credentials",
    )
    .await;

    // The TOTP secret is not readable from the database.
    let dump = database_dump(&app.db).await;
    assert!(!dump.contains(&secret));
    let raw = totp_rs::Secret::try_from_base32(&secret).unwrap();
    let hex: String = raw.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        !dump.contains(&hex),
        "the TOTP secret is stored in the clear"
    );
}

#[tokio::test]
async fn a_therapist_may_enrol_use_recovery_codes_and_remove_the_factor() {
    let app = crate::helpers::spawn_app().await;
    let token = crate::helpers::access(&app.verified_therapist("factor@example.com").await);
    let enrolled: Value = app
        .post_as("/v1/me/mfa/totp", &token, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = enrolled["secret"].as_str().unwrap().to_owned();
    assert!(
        enrolled["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    assert_problem(
        app.post_as(
            "/v1/me/mfa/totp/confirm",
            &token,
            &json!({"code": "000000"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let confirmed = app
        .post_as(
            "/v1/me/mfa/totp/confirm",
            &token,
            &json!({"code": app.totp_code(&secret, 0)}),
        )
        .await;
    assert_eq!(confirmed.status(), 200);
    let codes: Value = confirmed.json().await.unwrap();
    let codes: Vec<String> = codes["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    assert_problem(
        app.post_as("/v1/me/mfa/totp", &token, &json!({})).await,
        409,
        "conflict",
    )
    .await;

    let challenge = |_: ()| {
        let app = &app;
        async move {
            let problem = assert_problem(
                app.login("factor@example.com", crate::helpers::PASSWORD)
                    .await,
                401,
                "mfa_required",
            )
            .await;
            problem["mfa_token"].as_str().unwrap().to_owned()
        }
    };
    // A recovery code signs in once.
    let first = challenge(()).await;
    let used = app
        .login_second_factor(&json!({"mfa_token": first, "code": codes[0].to_uppercase()}))
        .await;
    assert_eq!(used.status(), 200);
    let second = challenge(()).await;
    assert_problem(
        app.login_second_factor(&json!({"mfa_token": second, "code": codes[0]}))
            .await,
        401,
        "invalid_credentials",
    )
    .await;

    // Removing it needs the password; then the password alone signs in again.
    assert_problem(
        app.client
            .delete(app.url("/v1/me/mfa/totp"))
            .bearer_auth(&token)
            .json(&json!({"password": "not the password"}))
            .send()
            .await
            .unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let removed = app
        .client
        .delete(app.url("/v1/me/mfa/totp"))
        .bearer_auth(&token)
        .json(&json!({"password": crate::helpers::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 204);
    assert_eq!(
        app.login("factor@example.com", crate::helpers::PASSWORD)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn the_service_role_changes_rows_and_nothing_else() {
    let owner = crate::helpers::spawn_app().await;
    let role = "td_service_probe";
    let password = "probe-password-0123456789";
    therapist_directory::db::ensure_service_login(&owner.db, role, password)
        .await
        .unwrap();
    let app = TestAppBuilder::default()
        .database(owner.database.clone())
        .connect_as(role, password)
        .spawn()
        .await;
    // The whole journey works with the service's privileges.
    let token = crate::helpers::access(&app.verified_therapist("least@example.com").await);
    let patched = app
        .patch_listing(&token, &json!({"pronouns": "they/them"}), None)
        .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(app.search("").await.status(), 200);

    // What it may not do.
    let mut url = url::Url::parse(&owner.database.url).unwrap();
    url.set_username(role).unwrap();
    url.set_password(Some(password)).unwrap();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url.as_str())
        .await
        .unwrap();
    for sql in [
        "update audit_log set action = 'tampered.entry'",
        "delete from audit_log",
        "truncate audit_log",
        "alter table audit_log disable trigger all",
        "create table intruder (n int)",
        "drop table inquiry",
    ] {
        let refused = sqlx::raw_sql(sql).execute(&mut conn).await;
        let code = match refused {
            Err(sqlx::Error::Database(e)) => e.code().map(|c| c.into_owned()),
            other => panic!("{sql}: {other:?}"),
        };
        assert_eq!(
            code.as_deref(),
            Some("42501"),
            "{sql} is not refused for lack of privilege"
        );
    }
    let entries: i64 = sqlx::query_scalar("select count(*) from audit_log")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(
        entries > 0,
        "the service role reads and appends the audit log"
    );
}
