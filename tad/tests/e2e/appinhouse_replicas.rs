//! Two `tad appinhouse serve` replicas as separate processes on one PostgreSQL schema, Redis and
//! one S3 bucket (moto, [`support::moto`]), each behind its own `tad gateway`: a build uploaded
//! through the gateway that reaches replica 1 is downloaded whole and by Range through the
//! gateway that reaches replica 2 (the same bytes), it is an object of the bucket, and nothing is
//! kept on the local disk; a build recorded through replica 1 is read through replica 2 at once,
//! whatever either replica kept in its read cache. Runs on PostgreSQL + Redis only (`TEST_DATABASE_URL` and
//! `TEST_REDIS_URL`, the CI's second pass); without moto it skips, and fails under CI.

use crate::support;

use serde_json::Value;
use support::{
    files_under,
    moto::Moto,
    noise,
    replicated::{Layout, ReplicatedPlatform},
};

const ADMIN_PASSWORD: &str = "replicas-admin-password";
const SECRET: &str = "appinhouse-replicas-key";
const BUCKET: &str = "tad-appinhouse-builds";

/// POSTs `request` with the `X-SecretKey` and answers the `code` of the JSON answer.
async fn secret_code(request: reqwest::RequestBuilder) -> (i64, Value) {
    let (status, body) = support::decode(
        request
            .header("X-SecretKey", SECRET)
            .send()
            .await
            .expect("POST"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (body["code"].as_i64().expect("code"), body)
}

/// `GET /api/v2/rog2/last` through `gateway` (200).
async fn last_through(http: &reqwest::Client, gateway: &str) -> Value {
    let (status, body) = support::decode(
        http.get(format!("{gateway}/api/v2/rog2/last"))
            .send()
            .await
            .expect("last"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_uploaded_through_one_replica_downloads_whole_and_by_range_through_the_other() {
    if !support::split_env::postgres_and_redis_given() {
        return;
    }
    let Some(moto) = Moto::start() else {
        return;
    };
    moto.create_bucket(BUCKET).await;
    let mut cluster = ReplicatedPlatform::start(Layout {
        admin_password: ADMIN_PASSWORD,
        jobs_replicas: 1,
        gateways: 1,
        env: &[
            ("TAD_APPINHOUSE_SECRET_KEY", SECRET),
            ("TAD_APPINHOUSE_S3_BUCKET", BUCKET),
            ("TAD_APPINHOUSE_S3_ENDPOINT", moto.endpoint.as_str()),
            ("TAD_APPINHOUSE_S3_REGION", "us-east-1"),
            ("TAD_APPINHOUSE_S3_ACCESS_KEY_ID", "test-key-id"),
            ("TAD_APPINHOUSE_S3_SECRET_ACCESS_KEY", "test-secret-key"),
        ],
    });
    // The platform's gateway reaches replica 1 only; replica 2 gets a gateway of its own.
    let first_gateway = cluster.gateway_urls[0].clone();
    let second_replica = cluster.start_more(
        &["appinhouse", "serve"],
        &[("TAD_APPINHOUSE_LISTEN", "127.0.0.1:0".to_owned())],
        "TAD appinhouse service is listening on ",
    );
    let second_gateway = cluster.start_more(
        &["gateway", "--listen", "127.0.0.1:0"],
        &[("TAD_APPINHOUSE_ADDR", format!("http://{second_replica}"))],
        "TAD gateway is listening on ",
    );
    let http = support::http_client();

    let (code, body) = secret_code(
        http.post(format!("{first_gateway}/api/v2/rog2/create"))
            .form(&[("description", "replicated builds")]),
    )
    .await;
    assert_eq!(code, 0, "{body}");
    // 12 MiB that do not compress: three parts of a multipart upload to the bucket.
    let build = noise(17, 12 * 1024 * 1024);
    let form = reqwest::multipart::Form::new()
        .text("version", "2.0.0")
        .part(
            "setup.exe",
            reqwest::multipart::Part::bytes(build.clone()).file_name("setup.exe"),
        );
    let (code, body) = secret_code(
        http.post(format!("{first_gateway}/api/v2/rog2/archive/windows"))
            .multipart(form),
    )
    .await;
    assert_eq!(code, 0, "{body}");
    let path = "/download/rog2/windows/2.0.0/setup.exe";
    assert_eq!(body["item"]["down"], format!("{first_gateway}{path}"));

    // Replica 2 lists the build and serves its bytes.
    let body = last_through(&http, &second_gateway).await;
    assert_eq!(body["items"][0]["version"], "2.0.0", "{body}");
    let whole = http
        .get(format!("{second_gateway}{path}"))
        .send()
        .await
        .expect("download");
    assert_eq!(whole.status().as_u16(), 200);
    assert!(
        whole.bytes().await.expect("bytes").as_ref() == build.as_slice(),
        "the whole build, byte for byte"
    );
    let start = 5 * 1024 * 1024 - 10;
    let end = start + 99;
    for (range, expected, slice) in [
        (
            format!("bytes={start}-{end}"),
            format!("bytes {start}-{end}/{}", build.len()),
            &build[start..=end],
        ),
        (
            "bytes=-100".to_owned(),
            format!(
                "bytes {}-{}/{}",
                build.len() - 100,
                build.len() - 1,
                build.len()
            ),
            &build[build.len() - 100..],
        ),
    ] {
        let ranged = http
            .get(format!("{second_gateway}{path}"))
            .header("range", &range)
            .send()
            .await
            .expect("range");
        assert_eq!(ranged.status().as_u16(), 206, "{range}");
        assert_eq!(
            ranged.headers()["content-range"].to_str().expect("header"),
            expected
        );
        assert!(
            ranged.bytes().await.expect("bytes").as_ref() == slice,
            "{range}: the exact slice"
        );
    }

    // The build is an object of the bucket, and no replica kept it on disk.
    let objects = moto.objects(BUCKET).await;
    assert_eq!(
        objects,
        [(
            "rog2/windows/2.0.0/setup.exe".to_owned(),
            build.len() as u64
        )]
    );
    let local = files_under(&cluster.data_dir().join("appinhouse-files"));
    assert!(local.is_empty(), "{local:?}");

    // Each replica keeps what it answered (the read cache); a build recorded through replica 1
    // is read through replica 2 as soon as its write has been answered.
    for minor in 1..=3 {
        let version = format!("2.{minor}.0");
        let (code, body) = secret_code(
            http.post(format!("{first_gateway}/api/v2/rog2/desc/windows"))
                .form(&[
                    ("version", version.as_str()),
                    ("time", &format!("2030-01-0{minor}T09:00:00Z")),
                    ("url", "http://ci.example/1"),
                    ("software_url", "http://cdn.example/setup.exe"),
                ]),
        )
        .await;
        assert_eq!(code, 0, "{body}");
        let body = last_through(&http, &second_gateway).await;
        assert_eq!(body["items"][0]["version"], version, "at once: {body}");
    }
}
