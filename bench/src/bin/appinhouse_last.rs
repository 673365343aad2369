//! Load benchmark of `GET /api/v2/{app}/last` through the embedded platform (gateway → gRPC →
//! svc-appinhouse → SQLite) against a bare actix handler answering the same JSON, in one run:
//! requests per second and p50/p99 latency for each, with the same client and concurrency.
//! Usage: `cargo run --release -p bench --bin appinhouse_last -- [SECONDS] [CONCURRENCY]`.

use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use bench::{load, report};

const SECRET: &str = "bench-secret-key";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (seconds, concurrency) = bench::arguments(10, 32)?;
    let (_data_dir, embedded) = bench::embedded("bench-admin-password", SECRET).await?;
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
    load(
        &load_client,
        last_url.clone(),
        Default::default(),
        1,
        concurrency,
    )
    .await; // warm-up
    report(
        "bare actix handler",
        &load(
            &load_client,
            bare_url,
            Default::default(),
            seconds,
            concurrency,
        )
        .await,
    );
    report(
        "gateway → svc-appinhouse",
        &load(
            &load_client,
            last_url,
            Default::default(),
            seconds,
            concurrency,
        )
        .await,
    );

    bare_handle.stop(true).await;
    embedded.stop().await?;
    Ok(())
}
