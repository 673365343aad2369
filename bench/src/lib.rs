//! What the benchmarks share: a closed-loop HTTP load (N clients, keep-alive, S seconds) that
//! records each request's latency, percentiles, and one report line per target.

use std::time::{Duration, Instant};

/// What one load run measured.
pub struct Outcome {
    pub requests: usize,
    pub errors: usize,
    pub seconds: f64,
    /// Latency of every successful request, sorted.
    pub latencies: Vec<Duration>,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds.max(f64::EPSILON)
    }

    /// The latency at `fraction` (0.99: p99).
    pub fn percentile(&self, fraction: f64) -> Duration {
        let sorted = &self.latencies;
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[index]
    }
}

/// `concurrency` clients sending `GET url` (with `headers`) back to back for `seconds`.
pub async fn load(
    client: &reqwest::Client,
    url: String,
    headers: reqwest::header::HeaderMap,
    seconds: u64,
    concurrency: usize,
) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let url = url.clone();
        let headers = headers.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            while Instant::now() < deadline {
                let sent = Instant::now();
                match client.get(&url).headers(headers.clone()).send().await {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        latencies.push(sent.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        if let Ok((mut worker_latencies, worker_errors)) = worker.await {
            latencies.append(&mut worker_latencies);
            errors += worker_errors;
        }
    }
    latencies.sort();
    Outcome {
        requests: latencies.len(),
        errors,
        seconds: started.elapsed().as_secs_f64(),
        latencies,
    }
}

/// One line: req/s, p50, p99, counts.
pub fn report(name: &str, outcome: &Outcome) {
    println!(
        "{name:<28} {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} requests, {} errors)",
        outcome.per_second(),
        outcome.percentile(0.50).as_secs_f64() * 1000.0,
        outcome.percentile(0.99).as_secs_f64() * 1000.0,
        outcome.requests,
        outcome.errors,
    );
}

/// SECONDS and CONCURRENCY from the command line, else the defaults given.
pub fn arguments(seconds: u64, concurrency: usize) -> anyhow::Result<(u64, usize)> {
    let mut args = std::env::args().skip(1);
    let seconds = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(seconds);
    let concurrency = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(concurrency);
    Ok((seconds, concurrency))
}

/// The embedded platform (`tad serve` in process) over a new temp dir (kept alive by the
/// answer), with the admin password and appinhouse secret key given.
pub async fn embedded(
    admin_password: &str,
    secret: &str,
) -> anyhow::Result<(tempfile::TempDir, tad::runtime::Embedded)> {
    use common::config::{Config, ConfigOverrides};
    let data_dir = tempfile::tempdir()?;
    let overrides = ConfigOverrides {
        data_dir: Some(data_dir.path().to_owned()),
        listen: Some("127.0.0.1:0".to_owned()),
        ..ConfigOverrides::default()
    };
    let config = Config::load(&overrides, &|name| match name {
        "TAD_ADMIN_PASSWORD" => Some(admin_password.to_owned()),
        "TAD_APPINHOUSE_SECRET_KEY" => Some(secret.to_owned()),
        _ => None,
    })?;
    let embedded = tad::runtime::start_embedded(&config).await?;
    Ok((data_dir, embedded))
}
