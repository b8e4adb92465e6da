//! A real S3-protocol server for the photo store's S3 path: `s3s-fs` (crates.io), serving a
//! directory, with signed requests required. `.ci/run` builds it into `target/tools`; a
//! test run without it builds it there first (once, a few minutes).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const ACCESS_KEY: &str = "directory-test-key";
pub const SECRET_KEY: &str = "directory-test-secret-0123456789";

/// A running server; stopped when dropped.
pub struct S3Server {
    pub endpoint: String,
    /// The directory it serves: a bucket is a directory in it.
    pub root: PathBuf,
    child: Child,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static INSTALL: Mutex<()> = Mutex::new(());

fn binary() -> PathBuf {
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools");
    let binary = target.join("bin/s3s-fs");
    let _once = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if !binary.exists() {
        let status = Command::new(env!("CARGO"))
            .args([
                "install",
                "-q",
                "s3s-fs",
                "--version",
                "0.14.1",
                "--features",
                "binary",
                "--locked",
                "--root",
            ])
            .arg(&target)
            .status()
            .expect("running cargo install s3s-fs");
        assert!(status.success(), "cargo install s3s-fs failed");
    }
    binary
}

/// Starts a server with `bucket` created.
pub fn start(bucket: &str) -> S3Server {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("s3")
        .join(uuid::Uuid::now_v7().to_string());
    std::fs::create_dir_all(root.join(bucket)).expect("the bucket's directory");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(binary())
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
        .arg(&root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting s3s-fs");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "s3s-fs did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    S3Server {
        endpoint: format!("http://127.0.0.1:{port}"),
        root,
        child,
    }
}
