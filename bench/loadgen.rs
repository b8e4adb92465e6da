//! A small closed-loop load generator for the benchmarks in `bench/`.
//!
//! `loadgen --base http://127.0.0.1:18080 --duration 20 --group NAME:CONCURRENCY:FILE[:xff] …`
//!
//! Each group runs CONCURRENCY workers; each worker repeatedly picks a random line of FILE
//! (`class<TAB>METHOD<TAB>path[<TAB>json body]`), sends it and records the latency under its
//! class. With `:xff` every request carries a random `X-Forwarded-For`, to play a flood from
//! many addresses (the service must trust the loopback proxy for that). At the end it prints,
//! per class: requests, throughput, p50/p95/p99/max latency and non-2xx answers.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use rand::seq::IndexedRandom;

struct Line {
    class: String,
    method: reqwest::Method,
    path: String,
    body: Option<String>,
}

struct Group {
    concurrency: usize,
    lines: Arc<Vec<Line>>,
    spoof_ip: bool,
}

#[derive(Default)]
struct Samples {
    latencies_us: Vec<u64>,
    errors: u64,
}

fn parse_args() -> Result<(String, Duration, Vec<Group>), String> {
    let mut base = "http://127.0.0.1:18080".to_owned();
    let mut duration = Duration::from_secs(20);
    let mut groups = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--base" => base = value,
            "--duration" => {
                duration = Duration::from_secs(value.parse().map_err(|_| "bad --duration")?)
            }
            "--group" => {
                let parts: Vec<&str> = value.split(':').collect();
                let [_, concurrency, file, rest @ ..] = parts.as_slice() else {
                    return Err(format!(
                        "--group {value}: expected NAME:CONCURRENCY:FILE[:xff]"
                    ));
                };
                let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
                let lines: Vec<Line> = text
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| {
                        let mut f = l.splitn(4, '\t');
                        let class = f.next().unwrap_or("request").to_owned();
                        let method = f
                            .next()
                            .unwrap_or("GET")
                            .parse()
                            .unwrap_or(reqwest::Method::GET);
                        let path = f.next().unwrap_or("/").to_owned();
                        let body = f.next().map(str::to_owned);
                        Line {
                            class,
                            method,
                            path,
                            body,
                        }
                    })
                    .collect();
                if lines.is_empty() {
                    return Err(format!("{file} has no requests"));
                }
                groups.push(Group {
                    concurrency: concurrency.parse().map_err(|_| "bad concurrency")?,
                    lines: Arc::new(lines),
                    spoof_ip: rest.first() == Some(&"xff"),
                });
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if groups.is_empty() {
        return Err("give at least one --group".into());
    }
    Ok((base, duration, groups))
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)] as f64 / 1000.0
}

#[tokio::main]
async fn main() {
    let (base, duration, groups) = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("loadgen: {message}");
            std::process::exit(2);
        }
    };
    therapist_directory::photos::media::install_tls_provider();
    // A browser's user agent: the service leaves crawlers and agent-less requests out of its
    // statistics, and the bench measures the search as visitors cost it, counting included.
    let client = reqwest::Client::builder()
        .user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
        .pool_max_idle_per_host(256)
        .build()
        .expect("http client");
    let deadline = Instant::now() + duration;
    let mut workers = Vec::new();
    for group in &groups {
        for _ in 0..group.concurrency {
            let client = client.clone();
            let lines = group.lines.clone();
            let base = base.clone();
            let spoof = group.spoof_ip;
            workers.push(tokio::spawn(async move {
                let mut samples: BTreeMap<String, Samples> = BTreeMap::new();
                while Instant::now() < deadline {
                    let (line, ip) = {
                        let mut rng = rand::rng();
                        let line = lines.choose(&mut rng).expect("non-empty");
                        let ip = format!(
                            "10.{}.{}.{}",
                            rng.random::<u8>(),
                            rng.random::<u8>(),
                            rng.random_range(1..255u8)
                        );
                        (line, ip)
                    };
                    let mut request =
                        client.request(line.method.clone(), format!("{base}{}", line.path));
                    if let Some(body) = &line.body {
                        request = request
                            .header("content-type", "application/json")
                            .body(body.clone());
                    }
                    if spoof {
                        request = request.header("x-forwarded-for", ip);
                    }
                    let started = Instant::now();
                    let ok = match request.send().await {
                        Ok(response) => {
                            let ok = response.status().is_success();
                            let _ = response.bytes().await;
                            ok
                        }
                        Err(_) => false,
                    };
                    let entry = samples.entry(line.class.clone()).or_default();
                    entry
                        .latencies_us
                        .push(started.elapsed().as_micros() as u64);
                    if !ok {
                        entry.errors += 1;
                    }
                }
                samples
            }));
        }
    }
    let mut merged: BTreeMap<String, Samples> = BTreeMap::new();
    for worker in workers {
        for (class, samples) in worker.await.expect("worker") {
            let entry = merged.entry(class).or_default();
            entry.latencies_us.extend(samples.latencies_us);
            entry.errors += samples.errors;
        }
    }
    println!(
        "{:<24} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7}",
        "class", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "non-2xx"
    );
    for (class, mut samples) in merged {
        samples.latencies_us.sort_unstable();
        let n = samples.latencies_us.len();
        println!(
            "{:<24} {:>9} {:>9.0} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>7}",
            class,
            n,
            n as f64 / duration.as_secs_f64(),
            percentile(&samples.latencies_us, 50.0),
            percentile(&samples.latencies_us, 95.0),
            percentile(&samples.latencies_us, 99.0),
            percentile(&samples.latencies_us, 100.0),
            samples.errors
        );
    }
}
