//! The embedded default: when `DATABASE_URL` is unset, the service runs its own private
//! PostgreSQL cluster from the system's PostgreSQL binaries, with its data under the project.
//!
//! Layout of the cluster directory (`./var/postgres` by default):
//! `data/` (PGDATA), `run/` (unix socket), `postgres.log`, `superuser-password` (0600).
//!
//! Any number of processes of the service (a server, `create-admin` in a second terminal,
//! `seed-demo`, a second server) share one cluster directory: the first starts the server,
//! later ones attach to it (`data/postmaster.pid` says where it listens), and the last one
//! out stops it. Each process registers in `users/` and holds an exclusive lock on its
//! registration for as long as it lives; `cluster.lock` serialises starting, attaching and
//! stopping. A watchdog process per registration (`sh` reading a pipe whose other end only
//! its process holds) runs when that process ends for any reason, a panic or SIGKILL
//! included: it stops the server only when no registration is still locked by a live
//! process, so no server is left behind and none is stopped under another user. PostgreSQL refuses to run as root, so as root the cluster runs as the
//! `postgres` system user in a directory that user can reach.

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use anyhow::Context;
use rand::RngCore;
use secrecy::SecretString;
use sqlx::Connection;

mod binaries;
mod files;

use binaries::{Pg, RunAs, find_bin_dir, run, run_as, shell_quote};
use files::{open_no_follow, prepare_base, private_dir, read_or_create_secret, socket_dir};

/// How the cluster is used.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub dir: PathBuf,
    /// Throwaway clusters (tests) trade durability for speed and are deleted when stopped.
    pub ephemeral: bool,
}

pub struct LocalCluster {
    base: PathBuf,
    port: u16,
    password: String,
    watchdog: Option<(Child, ChildStdin)>,
    /// This process's registration, locked for as long as it uses the cluster.
    registration: Option<fs::File>,
}

const INSTALL_HINT: &str = "install PostgreSQL's server binaries (Debian/Ubuntu: \
    `apt-get install postgresql`) or set DATABASE_URL to an existing server";

/// Runs initdb unless the cluster under `base` was made whole before.
fn initialise_if_needed(pg: &Pg, base: &Path, data: &Path, ephemeral: bool) -> anyhow::Result<()> {
    // initdb writes PG_VERSION almost first: the marker says whether it finished.
    let initialising = base.join("initialising");
    if initialising.exists() || !data.join("PG_VERSION").exists() {
        if data.exists() {
            // A half-written directory from an interrupted initdb: nothing in it is data.
            fs::remove_dir_all(data)
                .with_context(|| format!("removing incomplete cluster {}", data.display()))?;
        }
        fs::write(&initialising, b"")?;
        tracing::info!(dir = %data.display(), "initialising a private PostgreSQL cluster");
        let mut initdb = pg.command("initdb");
        initdb
            .arg("-D")
            .arg(data)
            .args([
                "-U",
                "postgres",
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
            ])
            .arg(format!(
                "--pwfile={}",
                base.join("superuser-password").display()
            ));
        if ephemeral {
            initdb.arg("--no-sync");
        }
        run(&mut initdb, "initdb")?;
        fs::remove_file(&initialising)?;
    }
    Ok(())
}

/// The last lines of the server's log, for an error that says why it did not start.
fn log_tail(log: &Path) -> String {
    fs::read_to_string(log)
        .map(|s| {
            s.lines()
                .rev()
                .take(15)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

impl LocalCluster {
    /// Finds the binaries, initialises the cluster on first use, clears a stale lock left by
    /// a crash, starts the server on a free local port and waits until it accepts connections.
    pub fn start(options: &ClusterOptions) -> anyhow::Result<LocalCluster> {
        let run_as = run_as()?;
        let base = prepare_base(&options.dir, &run_as)?;
        let data = base.join("data");
        let made_by = fs::read_to_string(data.join("PG_VERSION"))
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok());
        let bin = find_bin_dir(made_by).with_context(|| {
            format!("no PostgreSQL server binaries (initdb, pg_ctl, postgres) were found on PATH, via pg_config --bindir or under /usr/lib/postgresql/*/bin: {INSTALL_HINT}")
        })?;
        // Creating, starting, attaching and stopping take turns: a second process on a first
        // start waits for the first one's initdb instead of starting a half-made cluster.
        let coordination = open_no_follow(&base.join("cluster.lock"))?;
        coordination
            .lock()
            .context("waiting for the cluster's coordination lock")?;
        let password = read_or_create_secret(&base.join("superuser-password"), &run_as)?;

        let pg = Pg {
            bin: bin.clone(),
            run_as: run_as.clone(),
        };
        initialise_if_needed(&pg, &base, &data, options.ephemeral)?;

        let users = base.join("users");
        private_dir(&users, None)?;
        let mut suffix = [0u8; 6];
        rand::rng().fill_bytes(&mut suffix);
        let registration_path = users.join(format!("{}-{}", std::process::id(), hex(&suffix)));
        // A new name, opened exclusively: nothing already there (a link included) is used.
        let registration = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&registration_path)
            .with_context(|| format!("registering at {}", registration_path.display()))?;
        registration
            .lock()
            .context("registering as a user of the cluster")?;
        // The cluster as this process holds it once it runs on `port`: watched, and with
        // this process registered as one of its users.
        let hold = |port: u16| -> anyhow::Result<LocalCluster> {
            let ephemeral = options.ephemeral.then_some(&base);
            let watchdog = spawn_watchdog(&pg, &data, &base, &registration_path, ephemeral)?;
            Ok(LocalCluster {
                base: base.clone(),
                port,
                password,
                watchdog: Some(watchdog),
                registration: Some(registration),
            })
        };

        if let Some(port) = running_port(&data) {
            let cluster = hold(port)?;
            tracing::info!(port, dir = %base.display(), "attached to the private PostgreSQL cluster another process started");
            return Ok(cluster);
        }

        clear_stale_lock(&pg, &data)?;
        let socket_dir = socket_dir(&base, &run_as)?;
        let log = base.join("postgres.log");

        let mut last_error = None;
        for _ in 0..3 {
            let port = free_port()?;
            // Larger buffers and fewer forced checkpoints than PostgreSQL's conservative
            // defaults, for bulk loads such as `seed-demo --count 1000000`, and prepared
            // transactions, which let that load use two sessions (src/demo/load.rs).
            let mut settings = format!(
                "-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} \
                 -c shared_buffers=256MB -c max_wal_size=4GB -c checkpoint_timeout=15min \
                 -c max_prepared_transactions=8",
                shell_quote(&socket_dir.display().to_string())
            );
            if options.ephemeral {
                settings
                    .push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
            }
            let mut start = pg.command("pg_ctl");
            start
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "-o", &settings, "start"]);
            match run(&mut start, "pg_ctl start") {
                Ok(()) => {
                    let cluster = hold(port)?;
                    tracing::info!(port, dir = %base.display(), "private PostgreSQL cluster started");
                    return Ok(cluster);
                }
                Err(err) => last_error = Some(err),
            }
        }
        let tail = log_tail(&log);
        Err(last_error
            .unwrap_or_else(|| anyhow::anyhow!("pg_ctl start failed"))
            .context(format!(
                "the private PostgreSQL cluster did not start; end of {}:\n{tail}",
                log.display()
            )))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> &Path {
        &self.base
    }

    /// The URL the service connects with on the embedded default: login role
    /// `directory_app`, a member of `directory_service` with only the privileges it needs
    /// (created by `owner`, which has run the migrations).
    pub async fn service_url(
        &self,
        db: &str,
        owner: &sqlx::PgPool,
    ) -> anyhow::Result<SecretString> {
        let password =
            read_or_create_secret(&self.base.join("service-password"), &RunAs::CurrentUser)?;
        super::ensure_service_login(owner, "directory_app", &password).await?;
        Ok(SecretString::from(format!(
            "postgres://directory_app:{password}@127.0.0.1:{}/{db}",
            self.port
        )))
    }

    /// A superuser URL for database `db` on this cluster.
    pub fn url(&self, db: &str) -> SecretString {
        SecretString::from(format!(
            "postgres://postgres:{}@127.0.0.1:{}/{db}",
            self.password, self.port
        ))
    }

    /// Creates database `name` unless it exists.
    pub async fn ensure_database(&self, name: &str) -> anyhow::Result<()> {
        anyhow::ensure!(
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "database names here are lowercase letters, digits and underscores"
        );
        let url = self.url("postgres");
        let mut conn = sqlx::PgConnection::connect(secrecy::ExposeSecret::expose_secret(&url))
            .await
            .context("connecting to the private cluster")?;
        let exists: bool = sqlx::query_scalar!(
            "select exists(select 1 from pg_database where datname = $1) as \"exists!\"",
            name
        )
        .fetch_one(&mut conn)
        .await?;
        if !exists {
            let create = format!("create database {name}");
            sqlx::query(sqlx::AssertSqlSafe(create))
                .execute(&mut conn)
                .await?;
        }
        conn.close().await.ok();
        Ok(())
    }

    /// A random secret kept beside the cluster (0600), created on first use, so that e.g. the
    /// token-signing key of the embedded default survives restarts.
    pub fn persistent_secret(&self, name: &str) -> anyhow::Result<SecretString> {
        read_or_create_secret(&self.base.join(name), &RunAs::CurrentUser).map(SecretString::from)
    }

    /// Stops the server (fast shutdown: open sessions are ended) and waits for it.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        // This process no longer uses the cluster; the watchdog stops it if nobody else does.
        drop(self.registration.take());
        if let Some((mut child, stdin)) = self.watchdog.take() {
            // Closing the pipe is the watchdog's signal.
            drop(stdin);
            match child.wait() {
                Ok(_) => tracing::info!(
                    "left the private PostgreSQL cluster (stopped if this was its last user)"
                ),
                Err(err) => tracing::warn!(error = %err, "waiting for the cluster watchdog failed"),
            }
        }
    }

    /// What a crash of the whole process group leaves: the registration is released (as
    /// the kernel releases a dead process's locks) but the watchdog never fires, so the
    /// server runs on. Tests use it to show the next start copes.
    pub fn abandon(mut self) {
        drop(self.registration.take());
        if let Some((child, stdin)) = self.watchdog.take() {
            std::mem::forget(stdin);
            std::mem::forget(child);
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// The port of this cluster's running server, when one runs: `postmaster.pid` names a live
/// process whose working directory is the data directory (line 4 is the port).
fn running_port(data: &Path) -> Option<u16> {
    let contents = fs::read_to_string(data.join("postmaster.pid")).ok()?;
    let mut lines = contents.lines();
    let pid: u32 = lines.next()?.trim().parse().ok()?;
    let port: u16 = lines.nth(2)?.trim().parse().ok()?;
    let cwd = fs::read_link(format!("/proc/{pid}/cwd")).ok()?;
    (cwd == data.canonicalize().ok()?).then_some(port)
}

/// A crash can leave `postmaster.pid` behind. If the process it names is still this
/// cluster's postmaster (the service died but the server lived on), stop it cleanly; if it
/// names nothing, or an unrelated process that reused the pid, remove the file.
fn clear_stale_lock(pg: &Pg, data: &Path) -> anyhow::Result<()> {
    let lock = data.join("postmaster.pid");
    let Ok(contents) = fs::read_to_string(&lock) else {
        return Ok(());
    };
    let pid = contents
        .lines()
        .next()
        .and_then(|l| l.trim().parse::<u32>().ok());
    let ours = pid.is_some_and(|pid| {
        let cwd = fs::read_link(format!("/proc/{pid}/cwd")).ok();
        let data = data.canonicalize().ok();
        cwd.is_some() && cwd == data
    });
    if ours {
        tracing::warn!(
            ?pid,
            "a server from an earlier run is still up on this cluster; stopping it"
        );
        let mut stop = pg.command("pg_ctl");
        stop.arg("-D").arg(data).args(["-m", "fast", "-w", "stop"]);
        run(&mut stop, "pg_ctl stop")?;
    } else {
        tracing::warn!(?pid, "removing a stale postmaster.pid left by a crash");
        fs::remove_file(&lock).with_context(|| format!("removing {}", lock.display()))?;
    }
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free local port")?;
    Ok(listener.local_addr()?.port())
}

/// The watchdog ignores terminal signals (Ctrl-C reaches the whole foreground group) and
/// runs once its stdin reaches end-of-file, i.e. when its process is gone. Under the
/// coordination lock it drops its registration, clears registrations no live process holds,
/// and stops the cluster only when none is left. A registration still locked is looked at
/// again a few times: a process of the service that is starting a child shares its open
/// files with it for an instant (between fork and exec), which is not a user.
fn spawn_watchdog(
    pg: &Pg,
    data: &Path,
    base: &Path,
    registration: &Path,
    remove: Option<&PathBuf>,
) -> anyhow::Result<(Child, ChildStdin)> {
    let stop = pg.shell_command(
        "pg_ctl",
        &[
            "-D".into(),
            data.display().to_string(),
            "-m".into(),
            "fast".into(),
            "-w".into(),
            "stop".into(),
        ],
    );
    let cleanup = remove
        .map(|dir| format!("; rm -rf {}", shell_quote(&dir.display().to_string())))
        .unwrap_or_default();
    let quote = |p: &Path| shell_quote(&p.display().to_string());
    // The coordination lock comes as the watchdog's standard output, opened here without
    // following a link (a shell's `>` would follow one, and truncate what it names); the
    // registrations it inspects are regular files, never links.
    let script = format!(
        "trap '' INT TERM HUP; cat >/dev/null 2>&1; \
         flock 1; rm -f {me}; \
         for try in 1 2 3 4 5 6 7 8 9 10; do live=0; \
           for f in {users}/*; do [ -f \"$f\" ] && [ ! -L \"$f\" ] || continue; \
             if flock -n \"$f\" true 2>/dev/null; then rm -f \"$f\"; else live=1; fi; done; \
           [ $live = 0 ] && break; sleep 0.1; done; \
         if [ $live = 0 ]; then {stop} >/dev/null 2>&1{cleanup}; fi",
        me = quote(registration),
        users = quote(&base.join("users")),
    );
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(open_no_follow(&base.join("cluster.lock"))?)
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .context("starting the cluster watchdog")?;
    let stdin = child
        .stdin
        .take()
        .context("the watchdog has no stdin pipe")?;
    Ok((child, stdin))
}

fn hex(bytes: &[u8]) -> String {
    crate::hex::hex(bytes)
}

#[cfg(test)]
mod tests {
    use super::binaries::has_server_binaries;
    use super::*;

    #[test]
    fn quoting_survives_hostile_paths() {
        assert_eq!(shell_quote("/a b/c'd"), r"'/a b/c'\''d'");
    }

    #[test]
    fn bin_dir_requires_all_three_binaries() {
        let dir = std::env::temp_dir().join(format!("td-bin-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("initdb"), "").unwrap();
        assert!(!has_server_binaries(&dir));
        fs::write(dir.join("pg_ctl"), "").unwrap();
        assert!(!has_server_binaries(&dir));
        fs::write(dir.join("postgres"), "").unwrap();
        assert!(has_server_binaries(&dir));
        fs::remove_dir_all(&dir).unwrap();
    }
}
