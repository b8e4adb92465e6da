//! The database a command works on: an operator's server (`DATABASE_URL`), or the embedded
//! private cluster, started here and stopped by `close`.

use std::path::Path;

use secrecy::SecretString;
use sqlx::PgPool;

use super::embedded::{ClusterOptions, LocalCluster};
use crate::config::{Config, Database};

/// The name of the database the embedded cluster serves.
const EMBEDDED_DATABASE: &str = "therapist_directory";

pub struct OpenedDatabase {
    /// As the role that owns the schema: for migrations and operator tasks.
    owner_url: SecretString,
    /// As the service's own role; for the embedded cluster it is made on first use.
    service_url: Option<SecretString>,
    jwt_secret: SecretString,
    cluster: Option<LocalCluster>,
}

impl OpenedDatabase {
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        match &config.database {
            Database::Server {
                url,
                owner_url,
                jwt_secret,
                ..
            } => Ok(OpenedDatabase {
                owner_url: owner_url.clone().unwrap_or_else(|| url.clone()),
                service_url: Some(url.clone()),
                jwt_secret: jwt_secret.clone(),
                cluster: None,
            }),
            Database::Embedded {
                dir, jwt_secret, ..
            } => {
                let options = ClusterOptions {
                    dir: dir.clone(),
                    ephemeral: false,
                };
                let cluster =
                    tokio::task::spawn_blocking(move || LocalCluster::start(&options)).await??;
                cluster.ensure_database(EMBEDDED_DATABASE).await?;
                let jwt_secret = match jwt_secret {
                    Some(secret) => secret.clone(),
                    None => cluster.persistent_secret("jwt-secret")?,
                };
                Ok(OpenedDatabase {
                    owner_url: cluster.url(EMBEDDED_DATABASE),
                    service_url: None,
                    jwt_secret,
                    cluster: Some(cluster),
                })
            }
        }
    }

    pub fn owner_url(&self) -> &SecretString {
        &self.owner_url
    }

    /// The service's login, made with `owner` (a pool on `owner_url`) on the embedded cluster.
    pub async fn service_url(&self, owner: &PgPool) -> anyhow::Result<SecretString> {
        match (&self.service_url, &self.cluster) {
            (Some(url), _) => Ok(url.clone()),
            (None, Some(cluster)) => cluster.service_url(EMBEDDED_DATABASE, owner).await,
            (None, None) => anyhow::bail!("no database to serve"),
        }
    }

    pub fn jwt_secret(&self) -> &SecretString {
        &self.jwt_secret
    }

    /// The embedded cluster's directory, when it is the database.
    pub fn embedded_dir(&self) -> Option<&Path> {
        self.cluster.as_ref().map(LocalCluster::dir)
    }

    /// Stops the embedded cluster, if it is the database.
    pub async fn close(self) -> anyhow::Result<()> {
        if let Some(cluster) = self.cluster {
            tokio::task::spawn_blocking(move || cluster.stop()).await?;
        }
        Ok(())
    }
}
