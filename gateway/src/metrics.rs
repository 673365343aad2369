//! Prometheus metrics of the gateway: requests by route, method, HTTP status and outcome (`ok` or
//! the failure reason), a latency histogram by route, and the answers it kept and served again.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

/// The gateway's metric families.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    kept_answers: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "tad_http_requests_total",
                "HTTP requests by route, method, status and outcome",
            ),
            &["route", "method", "status", "outcome"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "tad_http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
            ]),
            &["route", "method"],
        )?;
        let kept_answers = IntCounterVec::new(
            Opts::new(
                "tad_kept_answers_total",
                "Answers of read routes kept by the gateway (kept) and served from memory (served)",
            ),
            &["route", "event"],
        )?;
        registry.register(Box::new(kept_answers.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            kept_answers,
        })
    }

    /// Counts one finished request.
    pub fn observe(&self, route: &str, method: &str, status: u16, outcome: &str, seconds: f64) {
        self.requests
            .with_label_values(&[route, method, &status.to_string(), outcome])
            .inc();
        self.latency
            .with_label_values(&[route, method])
            .observe(seconds);
    }

    /// Counts an answer of `route` kept, or served from memory.
    pub fn kept_answer(&self, route: &str, event: &str) {
        self.kept_answers.with_label_values(&[route, event]).inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> Result<String, prometheus::Error> {
        let mut buffer = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        String::from_utf8(buffer).map_err(|error| prometheus::Error::Msg(error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_requests_are_rendered() {
        let metrics = Metrics::new().expect("metrics");
        metrics.observe("/api/app/productline/select", "GET", 200, "ok", 0.003);
        let text = metrics.render().expect("render");
        assert!(text.contains(
            "tad_http_requests_total{method=\"GET\",outcome=\"ok\",route=\"/api/app/productline/select\",status=\"200\"} 1"
        ), "{text}");
        assert!(text.contains("tad_http_request_duration_seconds_bucket"));
    }
}
