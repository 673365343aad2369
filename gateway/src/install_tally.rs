//! Installs the gateway counts itself: svc-appinhouse counts an install for every OTA plist it
//! answers, but a plist the gateway answers from its kept answers ([`crate::answer_cache`])
//! never reaches it. Those are tallied here per build and handed to svc-appinhouse in one call
//! every second (`CountInstalls`, each counted as one plist fetch would be); a tally that could
//! not be handed over is kept for the next second. What a process killed outright had not handed
//! over yet (at most a second of kept plists) is not counted.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use actix_web::dev::{Path, ResourceDef, ServiceRequest, Url};
use proto::appinhouse::v1 as pb;

use crate::clients::{Clients, ServiceEndpoints};

/// The route whose kept answers count installs.
pub const PLIST_ROUTE: &str = "/api/v2/{app}/plist/{version}.plist";
static PLIST_PATH: std::sync::LazyLock<ResourceDef> =
    std::sync::LazyLock::new(|| ResourceDef::new(PLIST_ROUTE));
/// How often the tally is handed over.
const HAND_OVER_EVERY: Duration = Duration::from_secs(1);
/// Most builds tallied at once (a tally past it counts no new build until handed over).
const MAX_BUILDS: usize = 1024;
/// The platform whose builds have plists.
const IOS: &str = "ios";

/// Kept plists answered per build (app, version), not yet handed to svc-appinhouse.
pub struct InstallTally {
    counts: Mutex<HashMap<(String, String), i64>>,
    /// Where the last hand-over goes.
    endpoints: Option<ServiceEndpoints>,
}

impl InstallTally {
    /// A tally handed over every second to the svc-appinhouse of `endpoints`, for as long as the
    /// tally lives (a last hand-over follows its end).
    pub fn start(endpoints: &ServiceEndpoints) -> Arc<InstallTally> {
        let tally = Arc::new(InstallTally {
            counts: Mutex::new(HashMap::new()),
            endpoints: Some(endpoints.clone()),
        });
        let clients = Clients::connect_lazy(endpoints);
        let weak = Arc::downgrade(&tally);
        tokio::spawn(hand_over_while_alive(weak, clients));
        tally
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), i64>> {
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts an install when `request`, answered from a kept answer of `route`, fetched a plist.
    pub fn served_kept(&self, route: &str, request: &ServiceRequest) {
        if route != PLIST_ROUTE {
            return;
        }
        // The router has not run yet (kept answers are served before it): the path is read here.
        let mut path = Path::new(Url::new(request.uri().clone()));
        if !PLIST_PATH.capture_match_info(&mut path) {
            return;
        }
        let (Some(app), Some(version)) = (path.get("app"), path.get("version")) else {
            return;
        };
        let mut counts = self.counts();
        let key = (app.trim().to_owned(), version.trim().to_owned());
        if counts.len() < MAX_BUILDS || counts.contains_key(&key) {
            *counts.entry(key).or_insert(0) += 1;
        }
    }

    /// Everything tallied so far, emptied.
    fn take(&self) -> Vec<pb::CountedInstall> {
        self.counts()
            .drain()
            .map(|((app, version), installs)| pb::CountedInstall {
                app,
                platform: IOS.to_owned(),
                version,
                installs,
            })
            .collect()
    }

    /// Puts back a tally that could not be handed over.
    fn put_back(&self, installs: Vec<pb::CountedInstall>) {
        let mut counts = self.counts();
        for counted in installs {
            let key = (counted.app, counted.version);
            if counts.len() < MAX_BUILDS || counts.contains_key(&key) {
                *counts.entry(key).or_insert(0) += counted.installs;
            }
        }
    }
}

/// Hands the tally over every second while it lives, then once more.
async fn hand_over_while_alive(tally: Weak<InstallTally>, clients: Clients) {
    let mut ticks = tokio::time::interval(HAND_OVER_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(tally) = tally.upgrade() else {
            return;
        };
        let installs = tally.take();
        if installs.is_empty() {
            continue;
        }
        let request = pb::InstallTally {
            installs: installs.clone(),
        };
        if let Err(status) = clients.appinhouse().count_installs(request).await {
            tracing::warn!(%status, "kept plists' installs not handed over yet; retried in a second");
            tally.put_back(installs);
        }
    }
}

impl Drop for InstallTally {
    /// The last hand-over (when the server stops), if a runtime is still there to make it.
    fn drop(&mut self) {
        let installs = self.take();
        let (Some(endpoints), false) = (self.endpoints.take(), installs.is_empty()) else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let request = pb::InstallTally { installs };
                let clients = Clients::connect_lazy(&endpoints);
                if let Err(status) = clients.appinhouse().count_installs(request).await {
                    tracing::warn!(%status, "kept plists' installs not handed over at the stop");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::{http::Method, test::TestRequest};

    use super::*;

    #[test]
    fn the_plist_route_is_a_kept_route() {
        assert!(crate::routing::keeps_answers(
            crate::routes::ROUTES,
            PLIST_ROUTE,
            &Method::GET
        ));
    }

    #[test]
    fn a_kept_plist_counts_for_its_build_and_nothing_else_counts() {
        let tally = InstallTally {
            counts: Mutex::new(HashMap::new()),
            endpoints: None,
        };
        for _ in 0..2 {
            let request = TestRequest::get()
                .uri("/api/v2/rog2/plist/1.0.0.plist?extend=a")
                .to_srv_request();
            tally.served_kept(PLIST_ROUTE, &request);
        }
        let other = TestRequest::get().uri("/api/v2/rog2/last").to_srv_request();
        tally.served_kept("/api/v2/{app}/last", &other);
        let counted = tally.take();
        assert_eq!(
            counted,
            vec![pb::CountedInstall {
                app: "rog2".to_owned(),
                platform: "ios".to_owned(),
                version: "1.0.0".to_owned(),
                installs: 2,
            }]
        );
        assert!(tally.take().is_empty(), "handed over once");
        tally.put_back(counted);
        assert_eq!(tally.take()[0].installs, 2, "a failed hand-over is kept");
    }
}
