//! The drain a SIGTERM starts (see `startup::Stop::Drain`).

/// Set when a SIGTERM starts the drain: `/readyz` answers 503 so balancers and endpoint
/// controllers stop sending here, while requests that still arrive are served (each on a
/// connection closed after its answer) until the listener closes.
#[derive(Default)]
pub struct Draining(std::sync::atomic::AtomicBool);

impl Draining {
    pub fn start(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn is_draining(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}
