//! Command line: parse, then call into the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use secrecy::SecretString;
use therapist_directory::config::Config;
use therapist_directory::db::embedded::{ClusterOptions, LocalCluster};
use therapist_directory::startup::Application;
use therapist_directory::{db, openapi, telemetry};

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

/// The database to use: `DATABASE_URL`, or the embedded cluster (started here and returned
/// so the caller stops it when done).
async fn database(config: &mut Config) -> anyhow::Result<(SecretString, Option<LocalCluster>)> {
    if let Some(url) = config.database.url.clone() {
        return Ok((url, None));
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
    let (url, cluster) = database(&mut config).await?;
    let embedded = cluster.as_ref().map(|c| c.dir().display().to_string());
    let result = async {
        let app = Application::build(config.clone(), &url).await?;
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
