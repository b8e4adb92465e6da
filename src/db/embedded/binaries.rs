//! Finding PostgreSQL's server binaries and running them, as the current user or, as root,
//! as the `postgres` system user.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use super::INSTALL_HINT;

/// Who runs the server processes.
#[derive(Debug, Clone)]
pub(super) enum RunAs {
    CurrentUser,
    /// We are root: run as `postgres` through `runuser`.
    Postgres {
        uid: u32,
        gid: u32,
    },
}

pub(super) struct Pg {
    pub(super) bin: PathBuf,
    pub(super) run_as: RunAs,
}

impl Pg {
    pub(super) fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        let mut cmd = match self.run_as {
            RunAs::CurrentUser => Command::new(exe),
            RunAs::Postgres { .. } => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", "postgres", "--"]).arg(exe);
                cmd
            }
        };
        cmd.env_remove("PGDATA").env("LC_ALL", "C");
        cmd
    }

    pub(super) fn shell_command(&self, program: &str, args: &[String]) -> String {
        let exe = shell_quote(&self.bin.join(program).display().to_string());
        let args = args
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ");
        match self.run_as {
            RunAs::CurrentUser => format!("{exe} {args}"),
            RunAs::Postgres { .. } => format!("runuser -u postgres -- {exe} {args}"),
        }
    }
}

pub(super) fn run(cmd: &mut Command, what: &str) -> anyhow::Result<()> {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not run {what}"))?;
    if output.status.success() {
        Ok(())
    } else {
        bail!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
            String::from_utf8_lossy(&output.stdout).trim()
        )
    }
}

pub(super) fn has_server_binaries(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|b| dir.join(b).is_file())
}

/// The binaries of `made_by`, the major version that made an existing cluster (a cluster
/// runs only on it), when installed under `/usr/lib/postgresql`; otherwise PATH first, then
/// `pg_config --bindir`, then the newest `/usr/lib/postgresql/*/bin`.
pub(super) fn find_bin_dir(made_by: Option<u32>) -> Option<PathBuf> {
    if let Some(major) = made_by {
        let own = PathBuf::from(format!("/usr/lib/postgresql/{major}/bin"));
        if has_server_binaries(&own) {
            return Some(own);
        }
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| {
                    let major = e.file_name().to_string_lossy().parse::<u32>().ok()?;
                    Some((major, e.path().join("bin")))
                })
                .collect()
        })
        .unwrap_or_default();
    versioned.sort_by_key(|v| std::cmp::Reverse(v.0));
    on_path
        .into_iter()
        .chain(from_pg_config)
        .chain(versioned.into_iter().map(|(_, p)| p))
        .find(|dir| has_server_binaries(dir))
}

pub(super) fn run_as() -> anyhow::Result<RunAs> {
    let euid = fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX);
    if euid != 0 {
        return Ok(RunAs::CurrentUser);
    }
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "postgres"]).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    match (id("-u"), id("-g")) {
        (Some(uid), Some(gid)) => Ok(RunAs::Postgres { uid, gid }),
        _ => bail!(
            "running as root, but PostgreSQL refuses to run as root and there is no `postgres` \
             system user to run it as: {INSTALL_HINT} (the package creates the user)"
        ),
    }
}

pub(super) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
