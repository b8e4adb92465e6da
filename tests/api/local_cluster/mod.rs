//! The production topology on one machine (`deploy/local-cluster.sh`): a PostgreSQL primary
//! and a streaming replica, two API processes of the real binary and nginx in front. Driven
//! over HTTP as clients and operators do: a listing's way to publication seen by both
//! processes and through the replica, rate limits and email delivery that hold across
//! processes, one maintenance pass per interval, a process stopped under load without a lost
//! request, and the replica going away and coming back.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::*;

use reqwest::Client;
use serde_json::json;

use crate::helpers::PASSWORD;

const MAINTENANCE_INTERVAL_SECS: u64 = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_local_cluster_serves_as_one_service() {
    let test_started = Instant::now();
    let mut cluster = tokio::task::spawn_blocking(LocalCluster::start)
        .await
        .unwrap();
    let ready_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    therapist_directory::photos::media::install_tls_provider();
    let client = Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let nginx = cluster.var("NGINX_URL").to_owned();
    let apis = [
        cluster.var("API1_URL").to_owned(),
        cluster.var("API2_URL").to_owned(),
    ];
    let mail = cluster.var("MAIL_DIR").to_owned();
    assert_eq!(replica_state(&client, &apis[0]).await, "up");

    // 1. A listing's way to publication; then search on both processes and the public
    // profile through nginx (read from the replica).
    let therapist_email = "hailey@cluster.example";
    let (therapist, id, slug) = submitted_listing(&client, &nginx, &mail, therapist_email).await;
    let admin = admin(&cluster, &client, &nginx, "admin@cluster.example").await;
    let read = client
        .get(format!("{nginx}/v1/admin/listings/{id}"))
        .bearer_auth(&admin);
    let read = read.send().await.unwrap();
    assert_eq!(read.status(), 200);
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    let approve = client
        .post(format!("{nginx}/v1/admin/listings/{id}/approve"))
        .bearer_auth(&admin)
        .header("if-match", etag)
        .json(&json!({}));
    let approved = json_of(approve.send().await.unwrap(), 200, "approve").await;
    assert_eq!(approved["status"], "published");
    let (search_1, search_2, profile) = tokio::join!(
        within(Duration::from_secs(1), "search on api-1", || search_has(
            &client, &apis[0], &id
        )),
        within(Duration::from_secs(1), "search on api-2", || search_has(
            &client, &apis[1], &id
        )),
        within(Duration::from_secs(5), "profile through nginx", || async {
            let url = format!("{nginx}/v1/therapists/{slug}");
            client
                .get(url)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        }),
    );
    println!(
        "[1] published: in search on api-1 after {search_1:?}, on api-2 after {search_2:?}; \
         public profile through nginx (replica lag) after {profile:?}"
    );

    // 1b. A photo uploaded through nginx and approved is served by both processes from
    // the one store: s3s-fs over S3 when target/tools has it (as in CI), else a directory.
    let pixels = image::RgbImage::from_pixel(300, 300, image::Rgb([120, 60, 160]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
        .encode_image(&pixels)
        .unwrap();
    let upload = client
        .put(format!("{nginx}/v1/me/listing/photo"))
        .bearer_auth(&therapist)
        .header("content-type", "image/jpeg")
        .body(jpeg);
    let photo = json_of(upload.send().await.unwrap(), 200, "photo upload").await;
    let photo_id = photo["id"].as_str().unwrap();
    let decide = client
        .post(format!("{nginx}/v1/admin/photos/{photo_id}/approve"))
        .bearer_auth(&admin);
    json_of(decide.send().await.unwrap(), 200, "photo approval").await;
    let w400 = photo["urls"]["w400"].as_str().unwrap();
    assert!(w400.starts_with(&nginx), "{w400}");
    let name = w400.rsplit('/').next().unwrap();
    for base in apis.iter().chain([&nginx]) {
        let got = client
            .get(format!("{base}/media/{name}"))
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), 200, "{base}/media/{name}");
    }
    let store = std::path::Path::new(cluster.var("MEDIA_DIR"));
    let on_s3 = store.join("photos").join(name).exists();
    assert!(
        on_s3 || store.join(name).exists(),
        "{name} is in neither store"
    );
    println!("[1b] a photo approved through nginx, served by both processes (S3: {on_s3})");

    // 2. Sign-up limits are kept in PostgreSQL: 10 an hour per client address, whichever
    // process answers.
    let mut request_ids = Vec::new();
    for i in 1..=11 {
        let body = json!({"email": format!("flood{i}@cluster.example"), "password": PASSWORD, "full_name": "Flood Person", "accept_terms": true});
        let response = from(
            client.post(format!("{nginx}/v1/auth/signup")),
            "203.0.113.77",
        )
        .json(&body)
        .send()
        .await
        .unwrap();
        let expected = if i <= 10 { 202 } else { 429 };
        if let Some(id) = response.headers().get("x-request-id") {
            request_ids.push(id.to_str().unwrap().to_owned());
        }
        assert_eq!(response.status(), expected, "sign-up {i}");
    }
    let served: Vec<usize> = ["API1_LOG", "API2_LOG"]
        .iter()
        .map(|log| {
            let text = std::fs::read_to_string(cluster.var(log)).unwrap_or_default();
            request_ids
                .iter()
                .filter(|id| text.contains(id.as_str()))
                .count()
        })
        .collect();
    println!(
        "[2] 10 sign-ups accepted, the 11th 429; api-1 answered {}, api-2 {}",
        served[0], served[1]
    );
    assert!(
        served.iter().all(|&n| n > 0),
        "both processes answered sign-ups: {served:?}"
    );

    // 3. One inquiry, one email to the therapist, though both processes run an outbox worker.
    let subject = "New inquiry from Sam Rivera";
    assert!(emails_to(&mail, therapist_email, subject).is_empty());
    let inquiry = json!({
        "name": "Sam Rivera", "email": "sam.rivera@client.example", "phone": "+1 919 555 0142",
        "message": "Do you see couples on Saturdays?", "preferred_contact": "email", "consent": true,
    });
    let sent = from(
        client.post(format!("{nginx}/v1/therapists/{slug}/inquiries")),
        "192.0.2.33",
    )
    .json(&inquiry)
    .send()
    .await
    .unwrap();
    json_of(sent, 202, "inquiry").await;
    let delivered = within(Duration::from_secs(5), "the inquiry's email", || async {
        !emails_to(&mail, therapist_email, subject).is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let count = emails_to(&mail, therapist_email, subject).len();
    println!("[3] the inquiry's email arrived after {delivered:?}; 2 s later there are {count}");
    assert_eq!(count, 1, "exactly one email per inquiry");

    // 4. The maintenance job: every process tries every interval, one pass runs.
    let interval = MAINTENANCE_INTERVAL_SECS as f64;
    let wait = (ready_at + 2.5 * interval)
        - SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
    if wait > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(wait)).await;
    }
    let mut passes = Vec::new();
    for (n, log) in ["API1_LOG", "API2_LOG"].iter().enumerate() {
        let records = maintenance_records(cluster.var(log));
        let ran = records.iter().filter(|(_, ran)| *ran).count();
        println!(
            "[4] api-{}: {} attempts, {ran} passes ran",
            n + 1,
            records.len()
        );
        assert!(records.len() >= 2, "api-{} tries every interval", n + 1);
        passes.extend(
            records
                .iter()
                .filter(|(_, ran)| *ran)
                .map(|(at, _)| (*at, n + 1)),
        );
    }
    passes.sort_by(|a, b| a.0.total_cmp(&b.0));
    let gaps: Vec<f64> = passes.windows(2).map(|w| w[1].0 - w[0].0).collect();
    println!(
        "[4] passes (process, seconds after the first): {:?}",
        passes
            .iter()
            .map(|(at, n)| (*n, ((at - passes[0].0) * 10.0).round() / 10.0))
            .collect::<Vec<_>>()
    );
    assert!(passes.len() >= 2, "a pass each interval: {passes:?}");
    let doubled = gaps.iter().filter(|gap| **gap < interval * 0.5).count();
    assert_eq!(
        doubled, 0,
        "one pass per {interval}s across both processes: gaps {gaps:?}"
    );
    // Nor does one process run more than one pass per interval.
    for n in [1, 2] {
        let own: Vec<f64> = passes.iter().filter(|p| p.1 == n).map(|p| p.0).collect();
        assert!(
            own.windows(2).all(|w| w[1] - w[0] > interval * 0.5),
            "api-{n} ran passes closer than its interval: {own:?}"
        );
    }

    // 5. A rolling restart (`roll`: api-1, then api-2, each drained by SIGTERM, started
    // and ready before the next stops) while 8 clients stream GETs through nginx: every
    // answer is a 200.
    let load = Load::start(&client, &nginx, &slug, 8);
    load.reach(100).await;
    let roll_started = Instant::now();
    let before_roll = load.done();
    cluster.run_async(&["roll"]).await;
    let during_roll = load.done() - before_roll;
    let (sent, failures) = load.stop().await;
    cluster.read_env();
    println!(
        "[5] rolling restart in {:?} under 8 clients: {during_roll} GETs during it, {sent} in \
         all, {} not 200",
        roll_started.elapsed(),
        failures.len()
    );
    assert!(during_roll > 0, "requests streamed during the roll");
    assert!(
        failures.is_empty(),
        "answers other than 200 during a rolling restart: {} of {sent}, first {:#?}",
        failures.len(),
        &failures[..failures.len().min(20)]
    );

    // 5a. api-2 stops (SIGTERM) while a client streams GETs through nginx (4 at a time, the
    // search and the profile in turn, 300 at least and until api-2 is gone): nginx passes
    // the idempotent requests it could not complete on to api-1, none is lost.
    let load = Load::start(&client, &nginx, &slug, 4);
    load.reach(100).await;
    let stop_started = Instant::now();
    let before_stop = load.done();
    cluster.run_async(&["stop-api", "2"]).await;
    let during_stop = load.done() - before_stop;
    tokio::time::sleep(Duration::from_millis(300)).await;
    load.reach(before_stop + 300).await;
    let (sent, failures) = load.stop().await;
    let access_log =
        std::fs::read_to_string(format!("{}/nginx-access.log", cluster.var("LOG_DIR")))
            .unwrap_or_default();
    let passed_on = access_log
        .lines()
        .filter(|line| {
            line.contains("upstream=")
                && line
                    .split("upstream=")
                    .nth(1)
                    .is_some_and(|u| u.split(' ').next().is_some_and(|u| u.ends_with(',')))
        })
        .count();
    println!(
        "[5a] {sent} GETs through nginx; api-2 stopped in {:?} with {during_stop} of them under way; \
         {passed_on} passed on by nginx to the other process; {} failed",
        stop_started.elapsed(),
        failures.len()
    );
    assert!(during_stop > 0, "requests streamed while api-2 stopped");
    assert!(failures.is_empty(), "lost requests: {failures:#?}");
    assert!(!listening(cluster.ports[3]), "api-2 is gone");

    // 5b. A replica that stops replaying: within the allowed lag (2 s) reads and the search
    // feed go to the primary, so a suspension leaves search and the public profile within
    // 3 s, whatever the replica does.
    let mut replica =
        <sqlx::PgConnection as sqlx::Connection>::connect(cluster.var("REPLICA_SUPERUSER_URL"))
            .await
            .unwrap();
    sqlx::raw_sql("select pg_wal_replay_pause()")
        .execute(&mut replica)
        .await
        .unwrap();
    let owner: serde_json::Value = client
        .get(format!("{nginx}/v1/admin/listings/{id}"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let account = owner["account_id"].as_str().unwrap().to_owned();
    let suspend = client
        .post(format!("{nginx}/v1/admin/accounts/{account}/suspend"))
        .bearer_auth(&admin)
        .json(&json!({"reason": "checking a lagging replica"}));
    assert_eq!(suspend.send().await.unwrap().status(), 200);
    let gone = within(
        Duration::from_secs(3),
        "gone despite a paused replica",
        || async {
            let profile = format!("{nginx}/v1/therapists/{slug}");
            !search_has(&client, &apis[0], &id).await && status_of(&client, &profile).await == 404
        },
    )
    .await;
    assert_eq!(replica_state(&client, &apis[0]).await, "down");
    let metrics = client
        .get(format!("{}/metrics", apis[0]))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lag: f64 = metrics
        .lines()
        .find(|l| l.starts_with("db_read_replica_lag_seconds "))
        .and_then(|l| l.split_whitespace().last()?.parse().ok())
        .unwrap_or_else(|| panic!("no replica lag in /metrics:\n{metrics}"));
    assert!(lag >= 2.0, "/metrics says the replica is {lag} s behind");
    sqlx::raw_sql("select pg_wal_replay_resume()")
        .execute(&mut replica)
        .await
        .unwrap();
    let reinstate = client
        .post(format!("{nginx}/v1/admin/accounts/{account}/reinstate"))
        .bearer_auth(&admin)
        .json(&json!({"reason": "the check is over"}));
    assert_eq!(reinstate.send().await.unwrap().status(), 200);
    println!("[5b] replica replay paused: suspended listing gone after {gone:?}");

    // 6. Without the replica, profiles are read from the primary and readiness says so; the
    // replica back, reads return to it.
    cluster.run_async(&["stop-replica"]).await;
    let down = within(Duration::from_secs(10), "read_replica down", || async {
        replica_state(&client, &apis[0]).await == "down"
    })
    .await;
    let profile = format!("{nginx}/v1/therapists/{slug}");
    assert_eq!(
        status_of(&client, &profile).await,
        200,
        "a profile without the replica"
    );
    assert_eq!(
        status_of(&client, &format!("{nginx}/v1/therapists")).await,
        200
    );
    cluster.run_async(&["start-replica"]).await;
    let up = within(Duration::from_secs(20), "read_replica up", || async {
        replica_state(&client, &apis[0]).await == "up"
    })
    .await;
    assert_eq!(status_of(&client, &profile).await, 200);
    println!("[6] replica stopped: readyz said down after {down:?}; started: up after {up:?}");

    // Stopped, nothing is left listening.
    let pids: HashSet<String> = ["API1_PID", "API2_PID", "NGINX_PID", "PRIMARY_PID"]
        .iter()
        .map(|name| cluster.var(name).to_owned())
        .collect();
    tokio::task::spawn_blocking(move || {
        cluster.stop();
        for port in &cluster.ports {
            assert!(!listening(*port), "port {port} still listening after stop");
        }
        for pid in &pids {
            let state = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            assert!(
                state.is_empty() || state.contains("State:\tZ"),
                "process {pid} still runs after stop"
            );
        }
        std::fs::remove_dir_all(&cluster.dir).ok();
    })
    .await
    .unwrap();
    println!(
        "[cluster] the whole test took {:.1}s",
        test_started.elapsed().as_secs_f64()
    );
}
