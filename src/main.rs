//! Command line: parse, then call into the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use secrecy::SecretString;
use therapist_directory::auth::password::Passwords;
use therapist_directory::clock::Clock;
use therapist_directory::config::Config;
use therapist_directory::db::embedded::{ClusterOptions, LocalCluster};
use therapist_directory::demo::SeedOptions;
use therapist_directory::mail::transport::LettreMailer;
use therapist_directory::startup::Application;
use therapist_directory::{db, demo, openapi, telemetry};

/// The name of the database the embedded cluster serves.
const EMBEDDED_DATABASE: &str = "therapist_directory";

#[derive(Parser)]
#[command(
    version,
    about = "Therapist directory API server",
    after_help = "Configuration comes from environment variables (APP_*, DATABASE_URL); see README.md."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default). Without DATABASE_URL, starts a private PostgreSQL cluster.
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Print the OpenAPI document (the committed openapi/openapi.json is this output).
    Openapi,
    /// Create an admin account (the only way to make one). The password is read from
    /// standard input, or prompted for without echo on a terminal.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Directory Admin")]
        name: String,
    },
    /// Rebuild the search index of every published listing (normally kept current by the
    /// database; use after a restore or an interrupted seed-demo).
    ReindexDirectory,
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
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        return match openapi::document_json() {
            Ok(json) => {
                print!("{json}");
                ExitCode::SUCCESS
            }
            Err(err) => fail(&err),
        };
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format, &config.log_filter, std::io::stdout);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(&err.into()),
    };
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config).await,
            Command::Migrate => migrate(config).await,
            Command::ReindexDirectory => reindex_directory(config).await,
            Command::CreateAdmin { email, name } => create_admin(config, &email, &name).await,
            Command::SeedDemo { count, seed } => {
                seed_demo(config, SeedOptions { count, seed }).await
            }
            Command::Openapi => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err),
    }
}

fn fail(err: &anyhow::Error) -> ExitCode {
    tracing::error!(error = %format!("{err:#}"), "exiting");
    eprintln!("error: {err:#}");
    ExitCode::FAILURE
}

/// The database as the role that owns the schema (for migrations and operator tasks):
/// `APP_DATABASE_OWNER_URL`, else `DATABASE_URL`, or the embedded cluster (started here and
/// returned so the caller leaves it when done).
async fn database(config: &mut Config) -> anyhow::Result<(SecretString, Option<LocalCluster>)> {
    if let Some(url) = config.database.url.clone() {
        return Ok((config.database.owner_url.clone().unwrap_or(url), None));
    }
    let options = ClusterOptions {
        dir: config.database.embedded_dir.clone(),
        ephemeral: false,
    };
    let cluster = tokio::task::spawn_blocking(move || LocalCluster::start(&options)).await??;
    cluster.ensure_database(EMBEDDED_DATABASE).await?;
    if config.jwt_secret.is_none() {
        config.jwt_secret = Some(cluster.persistent_secret("jwt-secret")?);
    }
    Ok((cluster.url(EMBEDDED_DATABASE), Some(cluster)))
}

async fn serve(mut config: Config) -> anyhow::Result<()> {
    let (owner_url, cluster) = database(&mut config).await?;
    let embedded = cluster.as_ref().map(|c| c.dir().display().to_string());
    let result = async {
        // Migrations (and the first start's demo data) as the owning role; the service
        // itself as a role that can change rows and nothing else.
        let owner = db::connect(&owner_url, &config.database).await?;
        db::migrate(&owner).await?;
        if cluster.is_some() && config.embedded_demo_listings > 0 {
            seed_first_start(&owner, u64::from(config.embedded_demo_listings)).await?;
        }
        let has_admin: bool = sqlx::query_scalar("select exists (select 1 from account where role = 'admin')")
            .fetch_one(&owner)
            .await?;
        let service_url = match (&cluster, &config.database.url) {
            (Some(cluster), _) => cluster.service_url(EMBEDDED_DATABASE, &owner).await?,
            (None, Some(url)) => url.clone(),
            (None, None) => anyhow::bail!("no database to serve"),
        };
        owner.close().await;
        let pool = db::connect(&service_url, &config.database).await?;
        let mailer = std::sync::Arc::new(LettreMailer::from_settings(&config.mail)?);
        let app = Application::build_with_pool(config.clone(), pool, mailer, Clock::system())?;
        if !has_admin {
            tracing::info!(
                "no admin account yet; create one with: cargo run --release -- create-admin --email you@example.com"
            );
        }
        tracing::info!(
            address = %format!("http://{}:{}", config.host, app.port()),
            docs = %format!("http://{}:{}/docs", config.host, app.port()),
            embedded_postgres = embedded.as_deref().unwrap_or("no (DATABASE_URL)"),
            "serving"
        );
        app.run_until_stopped().await
    }
    .await;
    if let Some(cluster) = cluster {
        tokio::task::spawn_blocking(move || cluster.stop()).await?;
    }
    result
}

async fn seed_first_start(pool: &sqlx::PgPool, count: u64) -> anyhow::Result<()> {
    let fresh: bool = sqlx::query_scalar(
        "select not exists (select 1 from listing) and not exists (select 1 from demo_seed_run)",
    )
    .fetch_one(pool)
    .await?;
    if fresh {
        let report = demo::seed(pool, SeedOptions { count, seed: 1 }, |_, _| {}).await?;
        tracing::info!(
            listings = report.listings,
            "first start: loaded demo listings (set APP_EMBEDDED_DEMO_LISTINGS=0 to skip)"
        );
    }
    Ok(())
}

async fn reindex_directory(mut config: Config) -> anyhow::Result<()> {
    let (url, cluster) = database(&mut config).await?;
    let result = async {
        let pool = db::connect(&url, &config.database).await?;
        db::migrate(&pool).await?;
        let count = therapist_directory::directory::entries::reindex_all(&pool, 2).await?;
        tracing::info!(listings = count, "directory reindexed");
        pool.close().await;
        Ok(())
    }
    .await;
    if let Some(cluster) = cluster {
        tokio::task::spawn_blocking(move || cluster.stop()).await?;
    }
    result
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

async fn create_admin(mut config: Config, email: &str, name: &str) -> anyhow::Result<()> {
    let password = read_password()?;
    let (url, cluster) = database(&mut config).await?;
    let result = async {
        let pool = db::connect(&url, &config.database).await?;
        db::migrate(&pool).await?;
        let p = config.passwords;
        let passwords = Passwords::new(p.memory_kib, p.iterations, p.parallelism, p.concurrency)?;
        let id = therapist_directory::auth::admin::create_admin(
            &pool, &passwords, email, name, &password,
        )
        .await?;
        tracing::info!(%id, email, "admin account created");
        pool.close().await;
        Ok(())
    }
    .await;
    if let Some(cluster) = cluster {
        tokio::task::spawn_blocking(move || cluster.stop()).await?;
    }
    result
}

async fn seed_demo(mut config: Config, options: SeedOptions) -> anyhow::Result<()> {
    let (url, cluster) = database(&mut config).await?;
    let result = async {
        let pool = db::connect(&url, &config.database).await?;
        db::migrate(&pool).await?;
        let started = std::time::Instant::now();
        let report = demo::seed(&pool, options, |done, total| {
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
        pool.close().await;
        Ok(())
    }
    .await;
    if let Some(cluster) = cluster {
        tokio::task::spawn_blocking(move || cluster.stop()).await?;
    }
    result
}

async fn migrate(mut config: Config) -> anyhow::Result<()> {
    let (url, cluster) = database(&mut config).await?;
    let result = async {
        let pool = db::connect(&url, &config.database).await?;
        db::migrate(&pool).await?;
        tracing::info!(version = db::latest_migration(), "migrations applied");
        pool.close().await;
        Ok(())
    }
    .await;
    if let Some(cluster) = cluster {
        tokio::task::spawn_blocking(move || cluster.stop()).await?;
    }
    result
}
