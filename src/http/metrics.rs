//! Prometheus metrics: request counts and latency by route pattern (never the raw path, so a
//! scanner cannot explode the label set) and status, plus database pool gauges.

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};
use sqlx::PgPool;

/// Label used for requests that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The `method` label: one of the methods HTTP defines, or `other`. Any token is a valid
/// method on the wire, so the raw one would let anyone grow the label set without bound.
pub fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        "CONNECT" => "CONNECT",
        "TRACE" => "TRACE",
        _ => "other",
    }
}

#[derive(Clone)]
pub struct HttpMetrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_size: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
    index_lag: Gauge,
    feed_errors: IntCounter,
    replica_lag: Gauge,
}

/// What the search index says of itself at scrape time.
#[derive(Debug, Clone, Copy)]
pub struct IndexState {
    /// Seconds it has been behind the change feed (0 while current); `None` before its
    /// first build.
    pub lag_seconds: Option<f64>,
    /// Reads of the feed that failed since the process started.
    pub feed_errors: u64,
    /// Seconds the read replica was behind the primary at its last check; `None` without a
    /// replica or while it does not answer.
    pub replica_lag_seconds: Option<f64>,
}

impl HttpMetrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new();
        let labels = ["method", "route", "status"];
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered"),
            &labels,
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from receiving a request to producing its response",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &labels,
        )?;
        let pool_size = IntGauge::new("db_pool_connections", "Open database connections")?;
        let pool_idle = IntGauge::new("db_pool_idle_connections", "Idle database connections")?;
        let pool_max = IntGauge::new("db_pool_max_connections", "Configured pool size")?;
        let index_lag = Gauge::new(
            "search_index_lag_seconds",
            "How long the search index has been behind the change feed (-1 before its build)",
        )?;
        let feed_errors = IntCounter::new(
            "search_feed_errors_total",
            "Reads of the change feed that failed",
        )?;
        let replica_lag = Gauge::new(
            "db_read_replica_lag_seconds",
            "How far the read replica was behind the primary at its last check (-1: none, or not answering)",
        )?;
        registry.register(Box::new(replica_lag.clone()))?;
        registry.register(Box::new(index_lag.clone()))?;
        registry.register(Box::new(feed_errors.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool_size.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        registry.register(Box::new(pool_max.clone()))?;
        Ok(HttpMetrics {
            registry,
            requests,
            latency,
            pool_size,
            pool_idle,
            pool_max,
            index_lag,
            feed_errors,
            replica_lag,
        })
    }

    /// Records one answer. `route` is a route pattern or `UNMATCHED_ROUTE`, `method` comes
    /// from `method_label`: every label is from a bounded set.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        let labels = [method_label(method), route, status.as_str()];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }

    /// Renders the text exposition format, reading the pool and index gauges at scrape time.
    pub fn render(&self, pool: &PgPool, index: IndexState) -> anyhow::Result<String> {
        self.index_lag.set(index.lag_seconds.unwrap_or(-1.0));
        self.replica_lag
            .set(index.replica_lag_seconds.unwrap_or(-1.0));
        // The index counts; the counter catches up (both only grow).
        self.feed_errors
            .inc_by(index.feed_errors.saturating_sub(self.feed_errors.get()));
        self.pool_size.set(i64::from(pool.size()));
        self.pool_idle
            .set(i64::try_from(pool.num_idle()).unwrap_or(i64::MAX));
        self.pool_max
            .set(i64::from(pool.options().get_max_connections()));
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8(out)?)
    }
}
