//! Logs captured in memory, so a test can prove what the service logged.

use std::io::Write;
use std::sync::{Arc, LazyLock, Mutex, Once};

use therapist_directory::config::LogFormat;
use therapist_directory::telemetry;

static LOGS: LazyLock<Arc<Mutex<Vec<u8>>>> = LazyLock::new(Default::default);

struct CapturedLog;

impl Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if std::env::var_os("TEST_LOG").is_some() {
            std::io::stderr().write_all(buf)?;
        }
        LOGS.lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line so far that mentions `needle`.
pub fn log_lines_containing(needle: &str) -> Vec<String> {
    let logs = LOGS.lock().unwrap_or_else(|e| e.into_inner());
    String::from_utf8_lossy(&logs)
        .lines()
        .filter(|l| l.contains(needle))
        .map(str::to_owned)
        .collect()
}

pub(super) fn init_logs() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        telemetry::init(LogFormat::Json, "info,sqlx=warn,actix_server=warn", || {
            CapturedLog
        });
    });
}
