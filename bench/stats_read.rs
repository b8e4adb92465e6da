//! `GET /v1/me/stats` for a whole year, through the running service (bench/stats.sh): fills
//! a year of daily counts for `--listings` published demo listings (random counts, one row
//! per listing and day), opens a session for each of their accounts as a sign-in would,
//! then asks for a random account's year (`from` 365 days ago to today) from `--clients`
//! clients at once for `--duration` seconds. Prints the table's size and the latency
//! percentiles.
//!
//!   cargo run --release --example stats_read -- --base URL --database URL \
//!       [--listings 20000] [--clients 8] [--duration 15]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use rand::seq::IndexedRandom;
use secrecy::SecretString;
use sqlx::PgPool;
use uuid::Uuid;

use therapist_directory::accounts::{session, store};
use therapist_directory::auth::tokens::TokenKeys;

struct Args {
    base: String,
    database: String,
    listings: i64,
    clients: usize,
    duration: Duration,
}

fn args() -> Args {
    let mut parsed = Args {
        base: "http://127.0.0.1:18080".into(),
        database: std::env::var("DATABASE_URL").unwrap_or_default(),
        listings: 20_000,
        clients: 8,
        duration: Duration::from_secs(15),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().expect("every flag takes a value");
        match flag.as_str() {
            "--base" => parsed.base = value,
            "--database" => parsed.database = value,
            "--listings" => parsed.listings = value.parse().expect("--listings N"),
            "--clients" => parsed.clients = value.parse().expect("--clients N"),
            "--duration" => parsed.duration = Duration::from_secs(value.parse().expect("seconds")),
            other => panic!("unknown flag {other}"),
        }
    }
    parsed
}

/// A year of counts for `n` published listings (those already filled are kept); their
/// accounts.
async fn fill(pool: &PgPool, n: i64) -> Vec<Uuid> {
    let started = Instant::now();
    let filled = sqlx::query(
        "insert into listing_stat_day (listing_id, day, profile_views, search_appearances, inquiries)
         select l.id, d::date, (random() * 40)::int, (random() * 600)::int, (random() < 0.08)::int
           from (select id from listing where status = 'published' order by id limit $1) l,
                generate_series(current_date - 365, current_date, interval '1 day') d
         on conflict do nothing",
    )
    .bind(n)
    .execute(pool)
    .await
    .expect("filling a year of statistics");
    sqlx::query("vacuum (analyze) listing_stat_day")
        .execute(pool)
        .await
        .unwrap();
    let rows: i64 = sqlx::query_scalar("select count(*) from listing_stat_day")
        .fetch_one(pool)
        .await
        .unwrap();
    let size: String =
        sqlx::query_scalar("select pg_size_pretty(pg_total_relation_size('listing_stat_day'))")
            .fetch_one(pool)
            .await
            .unwrap();
    println!(
        "listing_stat_day: {rows} rows, {size} with indexes ({} rows added in {:.1} s)",
        filled.rows_affected(),
        started.elapsed().as_secs_f64()
    );
    sqlx::query_scalar(
        "select account_id from listing where status = 'published' order by id limit $1",
    )
    .bind(n)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Access tokens for up to 500 of the accounts, each from a session of its own.
async fn tokens(pool: &PgPool, accounts: &[Uuid]) -> Vec<String> {
    let secret = std::env::var("APP_JWT_SECRET").expect("APP_JWT_SECRET, as the service has it");
    let keys = TokenKeys::new(&SecretString::from(secret), None);
    let mut tokens = Vec::new();
    for account in accounts.iter().step_by((accounts.len() / 500).max(1)) {
        let row = store::find_by_id(pool, *account)
            .await
            .unwrap()
            .expect("account");
        let mut tx = pool.begin().await.unwrap();
        let (session, refresh) = store::create_session(&mut tx, row.id, false).await.unwrap();
        tx.commit().await.unwrap();
        let pair = session::issue_pair(&keys, &row, session, refresh).expect("token");
        tokens.push(pair.access_token);
    }
    tokens
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank] as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    let args = args();
    therapist_directory::photos::media::install_tls_provider();
    let pool = PgPool::connect(&args.database)
        .await
        .expect("the bench database");
    let accounts = fill(&pool, args.listings).await;
    let tokens = std::sync::Arc::new(tokens(&pool, &accounts).await);
    let client = reqwest::Client::new();
    let today = time::OffsetDateTime::now_utc().date();
    let path = format!(
        "{}/v1/me/stats?from={}&to={today}",
        args.base,
        today - time::Duration::days(365)
    );
    let deadline = Instant::now() + args.duration;
    let mut workers = Vec::new();
    for _ in 0..args.clients {
        let (client, tokens, path) = (client.clone(), tokens.clone(), path.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let token = tokens.choose(&mut rand::rng()).unwrap().clone();
                let started = Instant::now();
                let response = client.get(&path).bearer_auth(token).send().await.unwrap();
                assert_eq!(response.status(), 200);
                let body: serde_json::Value = response.json().await.unwrap();
                assert_eq!(body["days"].as_array().map(Vec::len), Some(366));
                latencies.push(started.elapsed().as_micros() as u64);
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    all.sort_unstable();
    println!(
        "GET /v1/me/stats (366 days), {} clients, {} requests, {:.0} req/s: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        args.clients,
        all.len(),
        all.len() as f64 / args.duration.as_secs_f64(),
        percentile(&all, 50.0),
        percentile(&all, 95.0),
        percentile(&all, 99.0),
        percentile(&all, 100.0)
    );
}
