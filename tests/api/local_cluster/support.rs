//! Driving deploy/local-cluster.sh from a test: the cluster's handle (stopped when dropped),
//! HTTP as a client behind nginx, its emails, and the steps of publishing a listing.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, complete_profile, emails_in, token_in};

pub(super) const BINARY: &str = env!("CARGO_BIN_EXE_therapist-directory");
pub(super) const MAINTENANCE_INTERVAL_SECS: u64 = 10;

/// A running cluster; dropping it (a failed assertion too) stops it.
pub(super) struct LocalCluster {
    pub(super) dir: PathBuf,
    pub(super) env: BTreeMap<String, String>,
    pub(super) ports: Vec<u16>,
    pub(super) stopped: bool,
}

pub(super) fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/local-cluster.sh")
}

/// Five consecutive free loopback ports (below Linux's ephemeral range).
pub(super) fn free_base_port() -> u16 {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    for attempt in 0..200u32 {
        let base = 20_000 + ((seed / 7 + attempt * 61) % 12_000) as u16;
        if (base..base + 5).all(|port| TcpListener::bind(("127.0.0.1", port)).is_ok()) {
            return base;
        }
    }
    panic!("no five free consecutive ports");
}

pub(super) fn listening(port: u16) -> bool {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&address, Duration::from_millis(300)).is_ok()
}

impl LocalCluster {
    pub(super) fn start() -> LocalCluster {
        let base = free_base_port();
        let dir =
            std::env::temp_dir().join(format!("td-local-cluster-{}-{base}", std::process::id()));
        let mut cluster = LocalCluster {
            dir,
            env: BTreeMap::new(),
            ports: (base..base + 5).collect(),
            stopped: false,
        };
        let base = base.to_string();
        cluster.run(&["start", "--binary", BINARY, "--base-port", &base]);
        cluster.read_env();
        cluster
    }

    /// Reads cluster.env again (process ids change when an API restarts).
    pub(super) fn read_env(&mut self) {
        let text = std::fs::read_to_string(self.dir.join("cluster.env")).expect("cluster.env");
        self.env = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    }

    pub(super) fn run(&self, args: &[&str]) {
        run_script(&self.dir, args);
    }

    /// `run` off the async runtime, for a step that happens while requests stream.
    pub(super) async fn run_async(&self, args: &'static [&'static str]) {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || run_script(&dir, args))
            .await
            .unwrap();
    }

    pub(super) fn var(&self, name: &str) -> &str {
        self.env
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing from cluster.env"))
    }

    pub(super) fn stop(&mut self) {
        self.run(&["stop"]);
        self.stopped = true;
    }
}

/// Runs the script on a cluster directory; panics unless it succeeds.
pub(super) fn run_script(dir: &Path, args: &[&str]) {
    let started = Instant::now();
    let output = Command::new("bash")
        .arg(script())
        .args(args)
        .arg("--dir")
        .arg(dir)
        .env(
            "APP_MAINTENANCE_INTERVAL_SECS",
            MAINTENANCE_INTERVAL_SECS.to_string(),
        )
        // The passes skipped because another process held the lock are debug lines.
        .env(
            "APP_LOG",
            "info,sqlx=warn,therapist_directory::maintenance=debug",
        )
        .stdin(Stdio::null())
        .output()
        .expect("run deploy/local-cluster.sh");
    print!("{}", String::from_utf8_lossy(&output.stdout));
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "deploy/local-cluster.sh {args:?} failed ({}); logs in {}",
        output.status,
        dir.display()
    );
    println!(
        "[cluster] {} took {:.1}s",
        args[0],
        started.elapsed().as_secs_f64()
    );
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        if !self.stopped {
            self.stopped = true;
            let _ = Command::new("bash")
                .arg(script())
                .args(["stop", "--dir"])
                .arg(&self.dir)
                .status();
            eprintln!(
                "[cluster] stopped after a failure; logs kept in {}",
                self.dir.display()
            );
        }
    }
}

/// A client as seen through nginx: its address arrives in X-Forwarded-For.
pub(super) fn from(request: RequestBuilder, client_address: &str) -> RequestBuilder {
    request.header("x-forwarded-for", client_address)
}

pub(super) async fn json_of(response: Response, status: u16, what: &str) -> Value {
    let got = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(got, status, "{what}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Every `.eml` in the shared mail directory, decoded as a mail client would.
pub(super) fn emails(dir: &str) -> Vec<String> {
    emails_in(Path::new(dir))
}

pub(super) fn emails_to(dir: &str, to: &str, subject: &str) -> Vec<String> {
    emails(dir)
        .into_iter()
        .filter(|e| e.contains(&format!("To: {to}")) && e.contains(subject))
        .collect()
}

pub(super) async fn email_to(dir: &str, to: &str, subject: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(email) = emails_to(dir, to, subject).pop() {
            return email;
        }
        assert!(
            Instant::now() < deadline,
            "no email to {to} about {subject:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(super) fn totp_now(secret: &str) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).expect("base32 secret");
    let totp =
        therapist_directory::accounts::mfa::model::totp(secret.as_bytes(), "").expect("totp");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    totp.generate(now).to_string()
}

/// Polls `check` every 25 ms until it holds or `limit` passes: how long it took.
pub(super) async fn within<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub(super) async fn search_has(client: &Client, base: &str, id: &str) -> bool {
    let Ok(response) = client.get(format!("{base}/v1/therapists")).send().await else {
        return false;
    };
    let body: Value = response.json().await.unwrap_or(Value::Null);
    body["items"]
        .as_array()
        .is_some_and(|items| items.iter().any(|i| i["id"] == id))
}

pub(super) async fn replica_state(client: &Client, api: &str) -> Value {
    let response = client
        .get(format!("{api}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(response.status(), 200, "ready whatever the replica does");
    response.json::<Value>().await.unwrap()["read_replica"].clone()
}

/// The status of a GET of `url`.
pub(super) async fn status_of(client: &Client, url: &str) -> u16 {
    client.get(url).send().await.expect(url).status().as_u16()
}

/// Therapist: signs up, verifies, completes and submits a listing; returns (token, listing id,
/// slug).
pub(super) async fn submitted_listing(
    client: &Client,
    nginx: &str,
    mail: &str,
    email: &str,
) -> (String, String, String) {
    let ip = "198.51.100.10";
    let signup = json!({"email": email, "password": PASSWORD, "full_name": "Hailey Shafir", "accept_terms": true});
    let response = from(client.post(format!("{nginx}/v1/auth/signup")), ip)
        .json(&signup)
        .send()
        .await
        .unwrap();
    json_of(response, 202, "signup").await;
    let token = token_in(&email_to(mail, email, "Confirm your email").await);
    let verify = client
        .post(format!("{nginx}/v1/auth/verify-email"))
        .json(&json!({"token": token}));
    json_of(verify.send().await.unwrap(), 200, "verify email").await;
    let login = client
        .post(format!("{nginx}/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}));
    let login = json_of(login.send().await.unwrap(), 200, "login").await;
    let token = login["access_token"].as_str().unwrap().to_owned();
    let patch = client
        .patch(format!("{nginx}/v1/me/listing"))
        .bearer_auth(&token)
        .header("content-type", "application/merge-patch+json")
        .body(complete_profile().to_string());
    json_of(patch.send().await.unwrap(), 200, "complete the listing").await;
    for (path, body) in [
        (
            "offices",
            json!({"address_line1": "1 Fayetteville St", "city": "Raleigh", "state": "NC", "zip": "27601"}),
        ),
        (
            "licenses",
            json!({"type": "LPCS", "number": "S1234", "state": "NC", "expires_on": "2030-06-30"}),
        ),
        (
            "certifications",
            json!({"name": "Certified Imago Relationship Therapist", "issuer": "Imago International Training Institute", "modality": "imago", "level": "Clinical", "issued_on": "2019-05-01"}),
        ),
    ] {
        let add = client
            .post(format!("{nginx}/v1/me/listing/{path}"))
            .bearer_auth(&token)
            .json(&body);
        json_of(add.send().await.unwrap(), 201, path).await;
    }
    let submit = client
        .post(format!("{nginx}/v1/me/listing/submit"))
        .bearer_auth(&token)
        .json(&json!({}));
    json_of(submit.send().await.unwrap(), 202, "submit").await;
    let mine = client
        .get(format!("{nginx}/v1/me/listing"))
        .bearer_auth(&token);
    let mine = json_of(mine.send().await.unwrap(), 200, "my listing").await;
    let id = mine["id"].as_str().unwrap().to_owned();
    let slug = mine["slug"].as_str().unwrap().to_owned();
    (token, id, slug)
}

/// An admin made by `create-admin` on the primary (as the schema owner), signed in through
/// nginx with a TOTP authenticator enrolled and confirmed: the session's access token.
pub(super) async fn admin(
    cluster: &LocalCluster,
    client: &Client,
    nginx: &str,
    email: &str,
) -> String {
    let mut child = Command::new(BINARY)
        .args(["create-admin", "--email", email, "--name", "Cluster Admin"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", cluster.var("OWNER_URL"))
        .env("APP_JWT_SECRET", cluster.var("APP_JWT_SECRET"))
        .env("APP_LOG_FORMAT", "json")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("create-admin");
    {
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    }
    assert!(child.wait().unwrap().success(), "create-admin");
    let login = client
        .post(format!("{nginx}/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}));
    let login = json_of(login.send().await.unwrap(), 200, "admin login").await;
    let token = login["access_token"].as_str().unwrap().to_owned();
    let enrol = client
        .post(format!("{nginx}/v1/me/mfa/totp"))
        .bearer_auth(&token)
        .json(&json!({"password": PASSWORD}));
    let enrolled = json_of(enrol.send().await.unwrap(), 201, "enrol TOTP").await;
    let code = totp_now(enrolled["secret"].as_str().unwrap());
    let confirm = client
        .post(format!("{nginx}/v1/me/mfa/totp/confirm"))
        .bearer_auth(&token)
        .json(&json!({"code": code}));
    json_of(confirm.send().await.unwrap(), 200, "confirm TOTP").await;
    token
}

/// The `maintenance pass` records of one API log: (seconds since the epoch, ran or skipped).
pub(super) fn maintenance_records(log: &str) -> Vec<(f64, bool)> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|record| {
            let message = record["message"].as_str()?;
            let ran = match message {
                "maintenance pass" => true,
                m if m.starts_with("maintenance pass skipped") => false,
                _ => return None,
            };
            let at = time::OffsetDateTime::parse(
                record["timestamp"].as_str()?,
                &time::format_description::well_known::Rfc3339,
            )
            .ok()?;
            Some((at.unix_timestamp_nanos() as f64 / 1e9, ran))
        })
        .collect()
}

/// Clients sending GETs through nginx (the search and a profile in turn) until stopped.
pub(super) struct Load {
    done: Arc<AtomicUsize>,
    finish: Arc<AtomicBool>,
    clients: Vec<tokio::task::JoinHandle<Vec<String>>>,
}

impl Load {
    pub(super) fn start(client: &Client, nginx: &str, slug: &str, clients: usize) -> Load {
        let done = Arc::new(AtomicUsize::new(0));
        let finish = Arc::new(AtomicBool::new(false));
        let clients = (0..clients)
            .map(|n| {
                let (client, nginx, slug) = (client.clone(), nginx.to_owned(), slug.to_owned());
                let (done, finish) = (done.clone(), finish.clone());
                tokio::spawn(async move {
                    let mut failures = Vec::new();
                    let mut i = n;
                    while !finish.load(Ordering::Relaxed) {
                        let path = match i % 2 {
                            0 => "/v1/therapists".to_owned(),
                            _ => format!("/v1/therapists/{slug}"),
                        };
                        match client.get(format!("{nginx}{path}")).send().await {
                            Ok(r) if r.status() == 200 => {}
                            Ok(r) => failures.push(format!("{path}: {}", r.status())),
                            Err(e) => failures.push(format!("{path}: {e}")),
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                        i += 1;
                    }
                    failures
                })
            })
            .collect();
        Load {
            done,
            finish,
            clients,
        }
    }

    /// Requests answered (or failed) so far.
    pub(super) fn done(&self) -> usize {
        self.done.load(Ordering::Relaxed)
    }

    /// Waits until `count` requests have been answered.
    pub(super) async fn reach(&self, count: usize) {
        while self.done() < count {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stops the clients: how many requests they sent, and each one not answered 200.
    pub(super) async fn stop(self) -> (usize, Vec<String>) {
        self.finish.store(true, Ordering::Relaxed);
        let mut failures = Vec::new();
        for client in self.clients {
            failures.extend(client.await.unwrap());
        }
        (self.done.load(Ordering::Relaxed), failures)
    }
}
