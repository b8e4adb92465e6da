//! The cluster directory's files, made safely when the service runs as root: the directory
//! belongs to `postgres`, so what is in it is treated as planted (no link is followed, no
//! name is trusted between a check and its use).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::binaries::RunAs;
use super::hex;

/// Creates the cluster directory. As root it belongs to `postgres`; if that user cannot reach
/// it (a checkout under /root, say), a directory under /var/tmp named after it is used instead.
pub(super) fn prepare_base(requested: &Path, run_as: &RunAs) -> anyhow::Result<PathBuf> {
    fs::create_dir_all(requested)
        .with_context(|| format!("creating the cluster directory {}", requested.display()))?;
    let requested = requested
        .canonicalize()
        .with_context(|| format!("resolving {}", requested.display()))?;
    let RunAs::Postgres { uid, gid } = *run_as else {
        return Ok(requested);
    };
    let own = |dir: &Path| private_dir(dir, Some((uid, gid)));
    own(&requested)?;
    if reachable_by_postgres(&requested) {
        return Ok(requested);
    }
    let digest = Sha256::digest(requested.display().to_string().as_bytes());
    let fallback = PathBuf::from(format!(
        "/var/tmp/therapist-directory-{}",
        &hex(&digest)[..12]
    ));
    tracing::warn!(
        requested = %requested.display(),
        used = %fallback.display(),
        "the postgres user cannot reach the cluster directory; using a directory it can reach"
    );
    // /var/tmp is everyone's: the directory is made here (mkdir fails on anything already
    // there) or, when it exists, must be a directory of root's or postgres's, checked on the
    // opened directory itself, not on a name someone could swap between check and use.
    match fs::create_dir(&fallback) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("creating {}", fallback.display())),
    }
    let opened = open_dir_no_follow(&fallback);
    let owner_ok = opened.as_ref().is_ok_and(|dir| {
        dir.metadata().is_ok_and(|m| {
            m.is_dir() && [0, uid].contains(&std::os::unix::fs::MetadataExt::uid(&m))
        })
    });
    if !owner_ok {
        bail!(
            "{} exists and is not a directory of root's or postgres's: remove it, or set APP_EMBEDDED_PG_DIR to a directory the postgres user can reach",
            fallback.display()
        );
    }
    own(&fallback)?;
    if !reachable_by_postgres(&fallback) {
        bail!(
            "the postgres user cannot write to {} or {}: set APP_EMBEDDED_PG_DIR to a directory it can reach",
            requested.display(),
            fallback.display()
        );
    }
    Ok(fallback)
}

fn reachable_by_postgres(dir: &Path) -> bool {
    Command::new("runuser")
        .args(["-u", "postgres", "--", "test", "-w"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub(super) fn read_or_create_secret(path: &Path, run_as: &RunAs) -> anyhow::Result<String> {
    let existing = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path);
    match existing {
        Ok(mut file) => {
            let mut existing = String::new();
            std::io::Read::read_to_string(&mut file, &mut existing)
                .with_context(|| format!("reading {}", path.display()))?;
            let existing = existing.trim().to_owned();
            if !existing.is_empty() {
                return Ok(existing);
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e).with_context(|| {
                format!("reading {} (a symbolic link is refused)", path.display())
            });
        }
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = hex(&bytes);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    if let RunAs::Postgres { uid, gid } = *run_as {
        // initdb (run as postgres) reads the password file; handed over on the open file.
        std::os::unix::fs::fchown(&file, Some(uid), Some(gid))?;
    }
    Ok(secret)
}

/// Unix socket paths are limited to ~107 bytes; fall back to /tmp when the project is deep.
pub(super) fn socket_dir(base: &Path, run_as: &RunAs) -> anyhow::Result<PathBuf> {
    let preferred = base.join("run");
    let dir = if preferred.join(".s.PGSQL.65535.lock").as_os_str().len() < 100 {
        preferred
    } else {
        let digest = Sha256::digest(base.display().to_string().as_bytes());
        PathBuf::from(format!("/tmp/td-pg-{}", &hex(&digest)[..12]))
    };
    let owner = match *run_as {
        RunAs::Postgres { uid, gid } => Some((uid, gid)),
        _ => None,
    };
    private_dir(&dir, owner)?;
    Ok(dir)
}

/// Opens (creating) a file without following a symbolic link and without truncating it:
/// the cluster directory belongs to `postgres`, and a link planted there must not make a
/// process running as root write elsewhere.
pub(super) fn open_no_follow(path: &Path) -> anyhow::Result<fs::File> {
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .with_context(|| format!("opening {} (a symbolic link is refused)", path.display()))
}

fn open_dir_no_follow(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_DIRECTORY)
        .open(path)
}

/// Makes `dir` (and its parents) and gives it mode 0700 and, with `owner`, to that user,
/// through the opened directory: a symbolic link in its place is refused, never followed.
pub(super) fn private_dir(dir: &Path, owner: Option<(u32, u32)>) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let opened = open_dir_no_follow(dir)
        .with_context(|| format!("opening {} (a symbolic link is refused)", dir.display()))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::fchown(&opened, Some(uid), Some(gid))
            .with_context(|| format!("handing {} to the postgres user", dir.display()))?;
    }
    opened.set_permissions(fs::Permissions::from_mode(0o700))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_planted_in_the_cluster_directory_are_refused_not_followed() {
        let dir = std::env::temp_dir().join(format!("td-links-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("precious");
        fs::write(&target, "keep me").unwrap();
        // A lock file that is a link to something else: refused, and the target untouched.
        let lock = dir.join("cluster.lock");
        std::os::unix::fs::symlink(&target, &lock).unwrap();
        assert!(open_no_follow(&lock).is_err());
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep me");
        // A secret file that is a link: refused too.
        let secret = dir.join("superuser-password");
        std::os::unix::fs::symlink(&target, &secret).unwrap();
        assert!(read_or_create_secret(&secret, &RunAs::CurrentUser).is_err());
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep me");
        // A directory that is a link to another: refused before any chmod or chown.
        let elsewhere = dir.join("elsewhere");
        fs::create_dir_all(&elsewhere).unwrap();
        fs::set_permissions(&elsewhere, fs::Permissions::from_mode(0o755)).unwrap();
        let run = dir.join("run");
        std::os::unix::fs::symlink(&elsewhere, &run).unwrap();
        assert!(private_dir(&run, None).is_err());
        let mode = fs::metadata(&elsewhere).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755, "the link's target kept its mode");
        // A real file and a real directory are fine, and the file is not truncated.
        let real = dir.join("real.lock");
        fs::write(&real, "held").unwrap();
        assert!(open_no_follow(&real).is_ok());
        assert_eq!(fs::read_to_string(&real).unwrap(), "held");
        assert!(private_dir(&dir.join("users"), None).is_ok());
        fs::remove_dir_all(&dir).unwrap();
    }
}
