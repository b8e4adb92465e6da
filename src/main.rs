//! Command line: parse, then call into the library.

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use therapist_directory::auth::password::Passwords;
use therapist_directory::clock::Clock;
use therapist_directory::config::{self, Config, Database, Environment, Settings, Stop};
use therapist_directory::db::opened::OpenedDatabase;
use therapist_directory::demo::SeedOptions;
use therapist_directory::mail::transport::LettreMailer;
use therapist_directory::startup::Application;
use therapist_directory::{accounts, db, demo, directory, openapi, telemetry};

#[derive(Parser)]
#[command(version, about = "Therapist directory API server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default). Without DATABASE_URL, starts a private PostgreSQL cluster.
    Serve {
        /// Start without applying migrations (as APP_MIGRATE_ON_START=false): a `migrate`
        /// step runs first, and the database must be at least at this binary's version.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Exit 0 when this host's instance answers /readyz with 200 (APP_PORT), for container
    /// health checks without curl.
    Healthcheck,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document (the committed openapi/openapi.json is this output).
    Openapi,
    /// Create an admin account (the only way to make one). The password is read from
    /// standard input, or prompted for without echo on a terminal. With `--reset-mfa`, remove
    /// the second factor of the existing admin with this email instead (it signs in with
    /// its password and enrols again), ending every session.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Directory Admin")]
        name: String,
        #[arg(long)]
        reset_mfa: bool,
    },
    /// Rebuild the directory entries of every published listing (normally kept current by
    /// the database; use after a restore).
    ReindexDirectory,
    /// Build the search index from the database into a snapshot file and exit (what `serve`
    /// runs in a child process when its snapshot cannot be read).
    #[command(hide = true)]
    BuildSearchSnapshot { path: std::path::PathBuf },
    /// Load deterministic demo listings (published) for trying the API or benchmarking.
    SeedDemo {
        /// How many listings to generate (1–2,000,000).
        #[arg(long, default_value_t = 1000)]
        count: u64,
        /// Which demo set: the same seed always yields the same listings, and can be loaded once.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn main() -> ExitCode {
    let (command, config) = match parse_command_line() {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    if let Command::Healthcheck = command {
        return healthcheck(&config);
    }
    if let Command::Openapi = command {
        return match openapi::document_json() {
            Ok(json) => {
                print!("{json}");
                ExitCode::SUCCESS
            }
            Err(err) => fail(&err),
        };
    }
    telemetry::init(config.log_format, &config.log_filter, std::io::stdout);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(&err.into()),
    };
    match runtime.block_on(run(command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err),
    }
}

/// The command and the settings, from the command line and the environment; `--help`,
/// `--version` and errors end the process here.
fn parse_command_line() -> Result<(Command, Config), ExitCode> {
    let matches = config::parse(Cli::command(), std::env::args_os(), |name| {
        std::env::var(name).ok()
    });
    let parsed = matches.and_then(|matches| {
        let cli = Cli::from_arg_matches(&matches).map_err(|err| config::ConfigError {
            var: "command line".into(),
            message: err.to_string(),
        })?;
        let config = Config::from_settings(cli.settings)?;
        let command = cli.command.unwrap_or(Command::Serve { no_migrate: false });
        Ok((command, config))
    });
    parsed.map_err(|stop| match stop {
        Stop::Shown(text) => {
            println!("{}", text.trim_end());
            ExitCode::SUCCESS
        }
        Stop::Invalid(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    })
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    if let Command::Serve { no_migrate } = command {
        let migrate = config.migrate_on_start && !no_migrate;
        return serve(config, migrate).await;
    }
    if let Command::BuildSearchSnapshot { path } = &command {
        let Database::Server { url, .. } = &config.database else {
            anyhow::bail!("build-search-snapshot needs DATABASE_URL");
        };
        let pool = db::connect(url, &config.pool).await?;
        return therapist_directory::search::feed::write_snapshot(&pool, path).await;
    }
    let database = OpenedDatabase::open(&config).await?;
    let result = async {
        let pool = db::connect(database.owner_url(), &config.pool).await?;
        migrate(&pool).await?;
        match command {
            Command::Migrate => {
                tracing::info!(version = db::latest_migration(), "migrations applied")
            }
            Command::ReindexDirectory => {
                let count = directory::store::reindex_all(&pool, 2).await?;
                tracing::info!(listings = count, "directory reindexed");
            }
            Command::CreateAdmin {
                email,
                reset_mfa: true,
                ..
            } => {
                let id = accounts::admin::reset_admin_mfa(&pool, &email).await?;
                tracing::info!(%id, email, "admin's second factor removed: sign in and enrol again");
            }
            Command::CreateAdmin { email, name, .. } => {
                create_admin(&pool, &config, &email, &name).await?
            }
            Command::SeedDemo { count, seed } => {
                // Demo therapists are published at once: never into a live directory.
                if config.environment == Environment::Production {
                    anyhow::bail!(
                        "seed-demo publishes made-up therapists; it refuses to run with APP_ENV=production"
                    );
                }
                seed_demo(&pool, &config, SeedOptions { count, seed }).await?
            }
            Command::Serve { .. }
            | Command::Openapi
            | Command::Healthcheck
            | Command::BuildSearchSnapshot { .. } => {}
        }
        pool.close().await;
        anyhow::Ok(())
    }
    .await;
    database.close().await?;
    result
}

/// Migrations, after finishing any interrupted demo load: its prepared transactions would
/// hold locks a migration waits for.
async fn migrate(owner: &sqlx::PgPool) -> anyhow::Result<()> {
    if let Err(err) = demo::load::recover(owner, demo::load::STRANDED_AFTER).await {
        tracing::warn!(reason = %format!("{err:#}"), "an interrupted demo load could not be finished");
    }
    db::migrate(owner).await
}

fn fail(err: &anyhow::Error) -> ExitCode {
    tracing::error!(error = %format!("{err:#}"), "exiting");
    eprintln!("error: {err:#}");
    ExitCode::FAILURE
}

async fn serve(config: Config, migrate: bool) -> anyhow::Result<()> {
    let database = OpenedDatabase::open(&config).await?;
    let result = async {
        // Migrations (and the first start's demo data) as the owning role; the service
        // itself as a role that can change rows and nothing else.
        let owner = db::connect(database.owner_url(), &config.pool).await?;
        if migrate {
            self::migrate(&owner).await?;
        } else {
            // A `migrate` step (a Job, a one-shot service) may still be running: wait for it
            // rather than exit, so instances started beside it come up once it is done.
            while let Err(err) = db::check_ready(&owner).await {
                tracing::warn!(
                    reason = %format!("{err:#}"),
                    "waiting for `therapist-directory migrate` to bring the database to this release"
                );
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
        }
        if let Database::Embedded { demo_listings, .. } = config.database
            && demo_listings > 0
        {
            let media = therapist_directory::startup::media_store(&config, config.port)?;
            demo::seed_first_start(&owner, &media, u64::from(demo_listings)).await?;
        }
        let has_admin = accounts::admin::any_admin(&owner).await?;
        let service_url = database.service_url(&owner).await?;
        owner.close().await;
        let pool = db::connect(&service_url, &config.pool).await?;
        let mailer = std::sync::Arc::new(LettreMailer::from_settings(&config.mail)?);
        let secret = database.jwt_secret().clone();
        let mut config = config.clone();
        config.search_build = Some(therapist_directory::search::feed::ChildBuild {
            executable: std::env::current_exe()?,
            database_url: service_url,
            jwt_secret: secret.clone(),
        });
        let app = Application::build_with_pool(config.clone(), pool, &secret, mailer, Clock::system())?;
        if !has_admin {
            tracing::info!(
                "no admin account yet; create one with: cargo run --release -- create-admin --email you@example.com"
            );
        }
        let embedded = database.embedded_dir().map(|dir| dir.display().to_string());
        tracing::info!(
            address = %format!("http://{}:{}", config.host, app.port()),
            docs = %format!("http://{}:{}/docs", config.host, app.port()),
            embedded_postgres = embedded.as_deref().unwrap_or("no (DATABASE_URL)"),
            "serving"
        );
        app.run_until_stopped().await
    }
    .await;
    database.close().await?;
    result
}

/// One HTTP/1.0 request to this host's `/readyz`, with std only: a container image needs
/// no curl for its health check.
fn healthcheck(config: &Config) -> ExitCode {
    use std::io::{Read, Write};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
    use std::time::Duration;
    let host = match config.host {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let address = SocketAddr::new(host, config.port);
    let answer = (|| -> std::io::Result<String> {
        let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(3))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        write!(stream, "GET /readyz HTTP/1.0\r\nHost: {address}\r\n\r\n")?;
        let mut head = [0u8; 64];
        let n = stream.read(&mut head)?;
        Ok(String::from_utf8_lossy(&head[..n]).into_owned())
    })();
    match answer {
        Ok(head) if head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200") => {
            ExitCode::SUCCESS
        }
        Ok(head) => {
            eprintln!("not ready: {}", head.lines().next().unwrap_or_default());
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("not ready: {address}: {err}");
            ExitCode::FAILURE
        }
    }
}

fn read_password() -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (12-128 characters): ")?;
        let second = rpassword::prompt_password("Repeat it: ")?;
        anyhow::ensure!(first == second, "the two passwords differ");
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn create_admin(
    pool: &sqlx::PgPool,
    config: &Config,
    email: &str,
    name: &str,
) -> anyhow::Result<()> {
    let password = read_password()?;
    let p = config.passwords;
    let passwords = Passwords::new(p.memory_kib, p.iterations, p.parallelism, p.concurrency)?;
    let id = accounts::admin::create_admin(pool, &passwords, email, name, &password).await?;
    tracing::info!(%id, email, "admin account created");
    Ok(())
}

async fn seed_demo(
    pool: &sqlx::PgPool,
    config: &Config,
    options: SeedOptions,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let media = therapist_directory::startup::media_store(config, config.port)?;
    let report = demo::seed(pool, &media, options, |done, total| {
        let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
        tracing::info!(
            done,
            total,
            per_second = rate.round(),
            "seeding demo listings"
        );
    })
    .await?;
    tracing::info!(
        listings = report.listings,
        seconds = report.elapsed.as_secs_f64(),
        "demo listings loaded"
    );
    Ok(())
}
