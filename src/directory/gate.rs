//! Admission for searches: at most `APP_SEARCH_CONCURRENCY` (by default, one more than the
//! number of cores) run against the database at once; the others wait their turn in
//! arrival order.
//!
//! Why: a search is CPU work in PostgreSQL. With more running than there are cores, the
//! operating system shares the cores between them, and a search needing 30 ms of CPU beside
//! seven others took 120 ms or more. Waiting in line instead, it takes its 30 ms after the
//! searches ahead of it. Measured at 1M listings with 8 clients on 2 cores (README, search
//! benchmark, 2 cores): with 3 searches at a time, the p99 of every class fell by 10-25%
//! against no limit. With 2, throughput fell by a quarter: a core sat idle while a search's
//! rows travelled back and were encoded. It also keeps a burst of searches from taking
//! every pooled connection from logins and listing edits.

use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::ApiError;

pub struct SearchGate {
    /// Tokio's semaphore is fair: permits go to waiters in the order they asked.
    permits: Semaphore,
    /// How long a search waits for its turn before a 503 (the pool's acquire timeout).
    wait: Duration,
}

impl SearchGate {
    pub fn new(concurrency: usize, wait: Duration) -> Self {
        SearchGate {
            permits: Semaphore::new(concurrency.max(1)),
            wait,
        }
    }

    /// Waits for a turn; the search runs while the permit is held.
    pub async fn enter(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        match tokio::time::timeout(self.wait, self.permits.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out, or closed (never done; treated the same).
            _ => {
                tracing::warn!("search waited too long for its turn: answering 503");
                Err(ApiError::busy())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;
    use actix_web::http::StatusCode;

    #[tokio::test]
    async fn a_search_waits_its_turn_then_gives_up_with_503() {
        let gate = SearchGate::new(1, Duration::from_millis(50));
        let first = gate.enter().await.expect("a free gate admits");
        let err = gate.enter().await.expect_err("the only turn is taken");
        assert_eq!(err.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let response = err.error_response();
        assert_eq!(response.headers().get("retry-after").unwrap(), "1");
        drop(first);
        let _turn = gate.enter().await.expect("admitted once the turn is free");
    }

    #[tokio::test]
    async fn waiting_searches_enter_in_arrival_order() {
        let gate = std::sync::Arc::new(SearchGate::new(1, Duration::from_secs(5)));
        let held = gate.enter().await.unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        for i in 0..5 {
            let (gate, tx) = (gate.clone(), tx.clone());
            tasks.push(tokio::spawn(async move {
                let _turn = gate.enter().await.unwrap();
                tx.send(i).unwrap();
            }));
            // Each waiter is queued before the next one asks.
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(held);
        for task in tasks {
            task.await.unwrap();
        }
        drop(tx);
        let mut order = Vec::new();
        while let Some(i) = rx.recv().await {
            order.push(i);
        }
        assert_eq!(order, vec![0, 1, 2, 3, 4]);
    }
}
