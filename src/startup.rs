//! `Application::build_with` (and `build_with_pool`): connect, migrate, bind (port 0 in
//! tests) and assemble the server.
//! `run_until_stopped` serves until SIGINT/SIGTERM: a SIGTERM first drains (`/readyz` 503
//! while still serving), then in-flight requests finish.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use secrecy::SecretString;
use sqlx::PgPool;
use utoipa_actix_web::AppExt;

use tokio::sync::watch;

use crate::auth::password::Passwords;
use crate::auth::tokens::TokenKeys;
use crate::clock::Clock;
use crate::config::{Config, Database};
use crate::db::read::ReadPool;
use crate::error::ApiError;
use crate::http::context::request_context;
use crate::http::conventions::conventions;
use crate::http::cors::{AllowedOrigins, cors};
use crate::http::fallback::{RouteTable, fallback};
use crate::http::metrics::HttpMetrics;
use crate::keys::{Purpose, Seal};
use crate::mail::transport::Mailer;
use crate::mail::{LinkMail, PublicBaseUrl, outbox};
use crate::maintenance::MaintenanceSettings;
use crate::ops::ApiDocs;
use crate::search::SearchIndex;
use crate::stats::Counters;
use crate::{db, openapi, routes};

pub struct Application {
    port: u16,
    pool: PgPool,
    search_index: SearchIndex,
    counters: Counters,
    server: Server,
    /// `/metrics` on its own listener (`APP_METRICS_ADDR`), and the port it got.
    metrics_server: Option<(Server, u16)>,
    /// Background workers (the outbox, the replica watch, the search feed, maintenance) and
    /// the signal that stops them.
    workers: Vec<tokio::task::JoinHandle<()>>,
    stop_workers: watch::Sender<bool>,
    draining: web::Data<crate::http::drain::Draining>,
    drain: std::time::Duration,
}

/// How the process is asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM, as orchestrators and `deploy/local-cluster.sh` send it: `/readyz` turns 503
    /// and requests are still served for `APP_SHUTDOWN_DRAIN_SECS`, so balancers move away
    /// before the listener closes.
    Drain,
    /// SIGINT (Ctrl-C), or a second signal during a drain: the listener closes at once.
    Now,
}

impl Application {
    /// Connects to the operator's database (`DATABASE_URL`), applies migrations and binds
    /// the listener, delivering email through `mailer` and reading time from `clock` (tests
    /// use both to simulate outages and move time forward). The embedded cluster is started
    /// by the command line, which then calls `build_with_pool`.
    pub async fn build_with(
        config: Config,
        mailer: Arc<dyn Mailer>,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let Database::Server {
            url, jwt_secret, ..
        } = &config.database
        else {
            anyhow::bail!("DATABASE_URL is not set");
        };
        let jwt_secret = jwt_secret.clone();
        let pool = db::connect(url, &config.pool).await?;
        db::migrate(&pool).await?;
        Self::build_with_pool(config, pool, &jwt_secret, mailer, clock)
    }

    /// Binds the listener and assembles the server around an existing, migrated pool, with
    /// the master secret every key derives from.
    pub fn build_with_pool(
        config: Config,
        pool: PgPool,
        jwt_secret: &SecretString,
        mailer: Arc<dyn Mailer>,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let previous = config.jwt_previous_secret.as_ref();
        let keys = web::Data::new(TokenKeys::new(jwt_secret, previous));
        let totp_seal = web::Data::new(crate::accounts::mfa::model::SecretSeal::new(
            jwt_secret, previous,
        ));
        let link_seal = Seal::new(Purpose::EmailedLinks, jwt_secret, previous);
        let cursors = web::Data::new(crate::http::cursor::CursorKey::derive(jwt_secret, previous));
        let passwords = web::Data::new(password_hasher(&config)?);
        // Bound before any worker starts: a second process on a taken port fails here, before
        // it has claimed an email or started a maintenance pass.
        let (listener, metrics_listener) = bind_listeners(&config)?;
        let port = listener.local_addr()?.port();
        let (stop_workers, stop_rx) = watch::channel(false);
        let search_index = SearchIndex::with_max_lag(config.search_max_lag);
        let reads = read_pool(&config, &pool)?;
        let media = web::Data::new(media_store(&config, port)?);
        let counters = Counters::new(jwt_secret, clock.clone(), config.statistics);
        let mut workers = spawn_workers(
            &config,
            &pool,
            &reads,
            (&search_index, &media, &counters),
            (mailer, link_seal.clone()),
            &clock,
            stop_rx,
        );
        if previous.is_some() {
            workers.push(tokio::spawn(reseal_totp_secrets(&pool, &totp_seal)));
        }
        let clock = web::Data::new(clock);
        warm_up();

        let (docs, route_table) = api_docs()?;
        let metrics = web::Data::new(HttpMetrics::new()?);
        let pool_data = web::Data::new(pool.clone());
        let reads = web::Data::new(reads);
        let metrics_server = metrics_listener
            .map(|listener| serve_metrics(listener, &metrics, &pool_data, (&search_index, &reads)))
            .transpose()?;
        let metrics_here =
            web::Data::new(crate::ops::MetricsServedHere(config.metrics_addr.is_none()));
        let http_workers = config.workers;
        let shutdown_timeout = config.shutdown_timeout.as_secs();
        let trusted_proxies = web::Data::new(config.trusted_proxies.clone());
        let public_base_url = web::Data::new(PublicBaseUrl(config.public_base_url.clone()));
        let link_mail = web::Data::new(LinkMail {
            base: PublicBaseUrl(config.public_base_url.clone()),
            seal: link_seal,
        });
        let allowed_origins = web::Data::new(AllowedOrigins(config.cors_allowed_origins.clone()));
        let search_data = web::Data::new(search_index.clone());
        let stats_data = web::Data::new(counters.clone());
        let draining = web::Data::new(crate::http::drain::Draining::default());
        let draining_data = draining.clone();
        let photo_slots = web::Data::new(crate::photos::routes::Slots::half_the_cores());

        let server = HttpServer::new(move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .configure(routes::configure)
                .split_for_parts();
            app.app_data(pool_data.clone())
                .app_data(reads.clone())
                .app_data(trusted_proxies.clone())
                .app_data(public_base_url.clone())
                .app_data(link_mail.clone())
                .app_data(allowed_origins.clone())
                .app_data(docs.clone())
                .app_data(route_table.clone())
                .app_data(metrics.clone())
                .app_data(metrics_here.clone())
                .app_data(keys.clone())
                .app_data(totp_seal.clone())
                .app_data(cursors.clone())
                .app_data(search_data.clone())
                .app_data(stats_data.clone())
                .app_data(draining_data.clone())
                .app_data(media.clone())
                .app_data(photo_slots.clone())
                .app_data(passwords.clone())
                .app_data(clock.clone())
                .app_data(path_config())
                .default_service(web::to(fallback))
                .wrap(from_fn(crate::auth::extract::guard))
                .wrap(from_fn(crate::http::context::refuse_oversized))
                .wrap(from_fn(cors))
                // Compression sits inside `conventions`, which tags each coding's ETag.
                .wrap(Compress::default())
                .wrap(from_fn(conventions))
                .wrap(from_fn(request_context))
        })
        .listen(listener)?
        .workers(http_workers)
        .shutdown_timeout(shutdown_timeout)
        // Signals are handled in `run_until_stopped`, so shutdown is always graceful and the
        // caller regains control afterwards (to stop the embedded cluster, say).
        .disable_signals()
        .run();

        Ok(Application {
            port,
            pool,
            search_index,
            counters,
            server,
            metrics_server,
            workers,
            stop_workers,
            draining,
            drain: config.shutdown_drain,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port `/metrics` listens on when `APP_METRICS_ADDR` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(_, port)| *port)
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// This process's search index (tests wait on it for a change to become searchable).
    pub fn search_index(&self) -> SearchIndex {
        self.search_index.clone()
    }

    /// This process's statistics counters (tests flush them instead of waiting).
    pub fn stats(&self) -> Counters {
        self.counters.clone()
    }

    /// Serves until the server stops on its own or a SIGINT/SIGTERM arrives (see [`Stop`]),
    /// then stops accepting connections and waits for in-flight requests (up to the shutdown
    /// timeout).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let (stops, received) = tokio::sync::mpsc::channel(4);
        tokio::spawn(forward_signals(stops));
        self.run_until(received).await
    }

    /// Serves until a [`Stop`] arrives on `stops` (tests send them; the command line
    /// forwards signals). A closed channel never stops the server.
    pub async fn run_until(
        self,
        mut stops: tokio::sync::mpsc::Receiver<Stop>,
    ) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let metrics = self.metrics_server.map(|(server, _)| {
            let handle = server.handle();
            tokio::spawn(server);
            handle
        });
        let mut server = tokio::spawn(self.server);
        let next_stop =
            async |stops: &mut tokio::sync::mpsc::Receiver<Stop>| match stops.recv().await {
                Some(stop) => stop,
                None => std::future::pending().await,
            };
        let stop = tokio::select! {
            result = &mut server => return Ok(result??),
            stop = next_stop(&mut stops) => stop,
        };
        if stop == Stop::Drain && !self.drain.is_zero() {
            self.draining.start();
            tracing::info!(
                seconds = self.drain.as_secs(),
                "draining: /readyz answers 503 while requests are still served"
            );
            tokio::select! {
                result = &mut server => return Ok(result??),
                _ = tokio::time::sleep(self.drain) => {}
                _ = next_stop(&mut stops) => tracing::info!("a second stop ends the drain"),
            }
        }
        tracing::info!("shutting down: finishing in-flight requests");
        handle.stop(true).await;
        if let Some(metrics) = metrics {
            metrics.stop(false).await;
        }
        self.stop_workers.send_replace(true);
        // Sends in progress get a bounded time to finish; a claimed message that is cut
        // off is sent again by the next worker once its lease runs out.
        for worker in self.workers {
            if tokio::time::timeout(std::time::Duration::from_secs(10), worker)
                .await
                .is_err()
            {
                tracing::warn!("a background worker did not stop within 10 s; leaving it");
            }
        }
        self.pool.close().await;
        Ok(())
    }
}

/// Passes SIGTERM on as a drain and SIGINT as an immediate stop, each time one arrives.
async fn forward_signals(stops: tokio::sync::mpsc::Sender<Stop>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        tracing::error!("could not install signal handlers; stop the process with SIGKILL");
        return;
    };
    loop {
        let stop = tokio::select! {
            _ = int.recv() => Stop::Now,
            _ = term.recv() => Stop::Drain,
        };
        tracing::info!(?stop, "signal received");
        if stops.send(stop).await.is_err() {
            return;
        }
    }
}

/// The public listener and, with `APP_METRICS_ADDR`, the metrics one.
fn bind_listeners(config: &Config) -> anyhow::Result<(TcpListener, Option<TcpListener>)> {
    let listener = TcpListener::bind((config.host, config.port))
        .with_context(|| format!("could not listen on {}:{}", config.host, config.port))?;
    let metrics = config
        .metrics_addr
        .map(|addr| {
            TcpListener::bind(addr)
                .with_context(|| format!("could not listen on {addr} (APP_METRICS_ADDR)"))
        })
        .transpose()?;
    Ok((listener, metrics))
}

/// The hasher with the configured Argon2id cost and how many hashes may run at once.
fn password_hasher(config: &Config) -> anyhow::Result<Passwords> {
    let p = config.passwords;
    Passwords::new(p.memory_kib, p.iterations, p.parallelism, p.concurrency)
}

/// The document at `/openapi.json`, its rendering at `/docs`, and the route table the
/// fallback answers 404 and 405 from: all read from the one generated document.
fn api_docs() -> anyhow::Result<(web::Data<ApiDocs>, web::Data<RouteTable>)> {
    let document = openapi::document();
    let json = serde_json::to_string_pretty(&document)?;
    let html = crate::ops::reference::render(&document);
    let route_table = web::Data::new(RouteTable::from_openapi(&document));
    Ok((web::Data::new(ApiDocs { json, html }), route_table))
}

/// The pool reads go to: the replica when one is configured, else the primary.
fn read_pool(config: &Config, pool: &PgPool) -> anyhow::Result<ReadPool> {
    Ok(match &config.database {
        Database::Server {
            read_url: Some(url),
            ..
        } => ReadPool::with_replica(
            pool.clone(),
            db::connect_lazy(url, &config.pool)?,
            config.read_max_lag,
        ),
        _ => ReadPool::primary(pool.clone()),
    })
}

/// The background workers: the mail outbox, the replica's watch, the statistics' flush, the
/// search index's feed and, unless switched off, the maintenance passes. Each stops when `stop` turns true.
fn spawn_workers(
    config: &Config,
    pool: &PgPool,
    reads: &ReadPool,
    (search_index, media, counters): (&SearchIndex, &crate::photos::media::Media, &Counters),
    (mailer, link_seal): (Arc<dyn Mailer>, Seal),
    clock: &Clock,
    stop: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut workers = vec![
        tokio::spawn(outbox::run(
            pool.clone(),
            mailer,
            (config.mail.outbox, link_seal),
            stop.clone(),
        )),
        tokio::spawn(reads.clone().watch(stop.clone())),
        tokio::spawn(crate::stats::run(
            counters.clone(),
            pool.clone(),
            stop.clone(),
        )),
        tokio::spawn(crate::search::feed::run(
            pool.clone(),
            reads.clone(),
            search_index.clone(),
            (config.search_snapshot.clone(), config.search_build.clone()),
            stop.clone(),
        )),
    ];
    let maintenance = MaintenanceSettings {
        interval: config.maintenance_interval,
        inquiry_retention: config.inquiry_retention,
        public_base_url: config.public_base_url.clone(),
        media: Some(media.clone()),
    };
    if !maintenance.interval.is_zero() {
        workers.push(tokio::spawn(crate::maintenance::run(
            pool.clone(),
            clock.clone(),
            maintenance,
            stop,
        )));
    }
    workers
}

/// After a rotation, TOTP secrets move to the current master once, at start-up; the ones a
/// process still on the old master seals meanwhile move at their next use.
fn reseal_totp_secrets(
    pool: &PgPool,
    seal: &web::Data<crate::accounts::mfa::model::SecretSeal>,
) -> impl Future<Output = ()> + use<> {
    let (pool, seal) = (pool.clone(), seal.clone());
    async move {
        match crate::accounts::mfa::store::reseal_all(&pool, &seal).await {
            Ok(n) => tracing::info!(resealed = n, "TOTP secrets sealed under the current master"),
            Err(e) => {
                tracing::warn!(error = %e, "TOTP secrets not resealed; they are at their next use")
            }
        }
    }
}

/// `/metrics` on a listener of its own (`APP_METRICS_ADDR`), one worker, and its port.
fn serve_metrics(
    listener: TcpListener,
    metrics: &web::Data<HttpMetrics>,
    pool: &web::Data<PgPool>,
    (search_index, reads): (&SearchIndex, &web::Data<ReadPool>),
) -> anyhow::Result<(Server, u16)> {
    let port = listener.local_addr()?.port();
    let (metrics, pool, reads) = (metrics.clone(), pool.clone(), reads.clone());
    let search = web::Data::new(search_index.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(metrics.clone())
            .app_data(pool.clone())
            .app_data(reads.clone())
            .app_data(search.clone())
            .app_data(web::Data::new(crate::ops::MetricsServedHere(true)))
            .service(crate::ops::metrics)
    })
    .listen(listener)?
    .workers(1)
    .disable_signals()
    .run();
    Ok((server, port))
}

/// A malformed path parameter (a non-UUID id, say) cannot name anything that exists.
fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, _| ApiError::not_found().into())
}

/// Builds the tables requests would otherwise build on first use (ZIPs, places, the
/// catalog of place names), before the first request.
fn warm_up() {
    crate::domain::zip::warm_up();
    crate::domain::place::warm_up();
    crate::search::catalog::warm_up();
}

/// The photo store. Without `APP_MEDIA_PUBLIC_URL` its URLs point at this service's own
/// `/media/`: its bind address, or `localhost` when it binds every address.
pub fn media_store(config: &Config, port: u16) -> anyhow::Result<crate::photos::media::Media> {
    let host = match config.host {
        ip if ip.is_unspecified() => "localhost".to_owned(),
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        ip => ip.to_string(),
    };
    let own = format!("http://{host}:{port}/media/");
    crate::photos::media::Media::open(&config.media, &own)
}
