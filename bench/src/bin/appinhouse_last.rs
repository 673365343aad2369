//! Load benchmark of `GET /api/v2/{app}/last` through the embedded platform (gateway → gRPC →
//! svc-appinhouse → SQLite) against a bare actix handler answering the same JSON, in one run:
//! requests per second and p50/p99 latency for each, with the same client and concurrency.
//! Usage: `cargo run --release -p bench --bin appinhouse_last -- [SECONDS] [CONCURRENCY]`.

use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use common::config::{Config, ConfigOverrides};

const SECRET: &str = "bench-secret-key";

struct Outcome {
    requests: usize,
    errors: usize,
    seconds: f64,
    latencies: Vec<Duration>,
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

async fn load(client: &reqwest::Client, url: String, seconds: u64, concurrency: usize) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let url = url.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            while Instant::now() < deadline {
                let sent = Instant::now();
                match client.get(&url).send().await {
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

fn report(name: &str, outcome: &Outcome) {
    println!(
        "{name:<28} {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} requests, {} errors)",
        outcome.requests as f64 / outcome.seconds,
        percentile(&outcome.latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&outcome.latencies, 0.99).as_secs_f64() * 1000.0,
        outcome.requests,
        outcome.errors,
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(10);
    let concurrency: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(32);

    let data_dir = tempfile::tempdir()?;
    let overrides = ConfigOverrides {
        data_dir: Some(data_dir.path().to_owned()),
        listen: Some("127.0.0.1:0".to_owned()),
        ..ConfigOverrides::default()
    };
    let config = Config::load(&overrides, &|name| match name {
        "TAD_ADMIN_PASSWORD" => Some("bench-admin-password".to_owned()),
        "TAD_APPINHOUSE_SECRET_KEY" => Some(SECRET.to_owned()),
        _ => None,
    })?;
    let embedded = tad::runtime::start_embedded(&config).await?;
    let client = common::https::client("bench")?;
    client
        .post(format!("{}/api/v2/rog2/create", embedded.url))
        .header("X-SecretKey", SECRET)
        .form(&[("description", "bench")])
        .send()
        .await?;
    for (platform, version) in [("android", "1.0.0"), ("ios", "1.0.0"), ("windows", "1.0.0")] {
        let answer: serde_json::Value = client
            .post(format!("{}/api/v2/rog2/desc/{platform}", embedded.url))
            .header("X-SecretKey", SECRET)
            .form(&[
                ("version", version),
                ("time", "2016-05-10T02:11:50+0800"),
                ("url", "http://ci.example/1"),
                ("description", "bench build"),
                ("software_url", "http://cdn.example/build"),
                ("plist_bundle_identifier", "org.bench"),
                ("plist_title", "Bench"),
            ])
            .send()
            .await?
            .json()
            .await?;
        anyhow::ensure!(answer["code"] == 0, "desc failed: {answer}");
    }
    let last_url = format!("{}/api/v2/rog2/last", embedded.url);
    let body = client.get(&last_url).send().await?.text().await?;

    // The baseline: a bare actix handler answering the same bytes.
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let bare_url = format!("http://{}/last", listener.local_addr()?);
    let bare_body = web::Data::new(body.clone());
    let bare = HttpServer::new(move || {
        App::new().app_data(bare_body.clone()).route(
            "/last",
            web::get().to(|body: web::Data<String>| async move {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(body.get_ref().clone())
            }),
        )
    })
    .listen(listener)
    .context("bare server")?
    .run();
    let bare_handle = bare.handle();
    tokio::spawn(bare);

    println!(
        "GET /api/v2/{{app}}/last, {seconds}s per target, {concurrency} concurrent clients, {} bytes per answer",
        body.len()
    );
    // The same client for both targets.
    let load_client = common::https::build(
        common::https::client_builder().pool_max_idle_per_host(concurrency),
        "bench load",
    )?;
    load(&load_client, last_url.clone(), 1, concurrency).await; // warm-up
    report(
        "bare actix handler",
        &load(&load_client, bare_url, seconds, concurrency).await,
    );
    report(
        "gateway → svc-appinhouse",
        &load(&load_client, last_url, seconds, concurrency).await,
    );

    bare_handle.stop(true).await;
    embedded.stop().await?;
    Ok(())
}
