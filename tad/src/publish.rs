//! `tad appinhouse publish FILE --app NAME`: uploads a build (.ipa/.apk/.exe/.msi) to a gateway's
//! `POST /api/v2/{app}/archive/{platform}` as a streamed multipart body with a progress bar, the
//! `X-SecretKey` taken from `TAD_APPINHOUSE_SECRET_KEY` (or the config / data directory).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};

/// Flags of `tad appinhouse publish`.
#[derive(Debug, Args, Clone)]
pub struct PublishArgs {
    /// The build file: .ipa (ios), .apk (android), .exe or .msi (windows).
    pub file: PathBuf,
    /// The app to publish under (created beforehand with /api/v2/{app}/create).
    #[arg(long)]
    pub app: String,
    /// Base URL of the gateway.
    #[arg(long, env = "TAD_GATEWAY_URL", default_value = "http://127.0.0.1:8080")]
    pub gateway: String,
    /// Platform; by default from the file's extension.
    #[arg(long)]
    pub platform: Option<String>,
    /// Version; by default the one the build names (required for .exe/.msi).
    #[arg(long)]
    pub version: Option<String>,
    /// Description shown with the build.
    #[arg(long)]
    pub description: Option<String>,
    /// Link to the CI build.
    #[arg(long)]
    pub url: Option<String>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// The platform a build file is for, by its extension.
pub fn platform_of(file: &Path) -> Option<&'static str> {
    let extension = file.extension()?.to_str()?.to_ascii_lowercase();
    match extension.as_str() {
        "ipa" => Some("ios"),
        "apk" => Some("android"),
        "exe" | "msi" => Some("windows"),
        _ => None,
    }
}

/// Uploads the build; answers the gateway's JSON answer.
pub async fn publish(args: PublishArgs, secret_key: &str) -> anyhow::Result<serde_json::Value> {
    let platform = match &args.platform {
        Some(platform) => platform.clone(),
        None => platform_of(&args.file)
            .with_context(|| {
                format!(
                    "cannot tell the platform of {}: use --platform",
                    args.file.display()
                )
            })?
            .to_owned(),
    };
    let file_name = args
        .file
        .file_name()
        .and_then(|name| name.to_str())
        .context("the file has no name")?
        .to_owned();
    let file = tokio::fs::File::open(&args.file)
        .await
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let size = file.metadata().await?.len();
    let progress = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(size)
    };
    progress.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .context("progress bar template")?
        .progress_chars("=> "),
    );
    progress.set_message(file_name.clone());
    let counter = progress.clone();
    let stream = tokio_util::io::ReaderStream::new(file).inspect(move |chunk| {
        if let Ok(bytes) = chunk {
            counter.inc(bytes.len() as u64);
        }
    });
    let part =
        reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), size)
            .file_name(file_name);
    let mut form = reqwest::multipart::Form::new().part("file", part);
    for (name, value) in [
        ("version", &args.version),
        ("description", &args.description),
        ("url", &args.url),
    ] {
        if let Some(value) = value {
            form = form.text(name, value.clone());
        }
    }
    let url = format!(
        "{}/api/v2/{}/archive/{platform}",
        args.gateway.trim_end_matches('/'),
        args.app
    );
    let response = common::https::client("tad publish")?
        .post(&url)
        .header("X-SecretKey", secret_key)
        .multipart(form)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    progress.finish();
    let status = response.status();
    let text = response.text().await.context("cannot read the answer")?;
    let answer: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("the gateway answered {status} with: {text}"))?;
    if answer["code"] != 0 {
        bail!(
            "publish failed (HTTP {status}, code {}): {}",
            answer["code"],
            answer["msg"].as_str().unwrap_or_default()
        );
    }
    Ok(answer)
}
