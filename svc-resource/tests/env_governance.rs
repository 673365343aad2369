//! Governance of environments (issue 20), on SQLite and on PostgreSQL when `TEST_DATABASE_URL`
//! is set: an admin marks an environment protected with deploy windows, a zone, a freeze and
//! what an approval outside them does; any reader (the jobs service) reads it back, fresh after
//! every write; each bad field is refused by name and changes nothing; each save appends one
//! `env.governance` event with the changed fields; deleting the environment forgets it.

use std::sync::Arc;

use common::{
    audit_testing::{Trail, change},
    database_test_suite,
    db::Database,
    time::format_time,
};
use svc_resource::{
    ClusterUsage,
    db::MIGRATIONS,
    service::{
        ResourceError,
        governance::{GovernanceFields, GovernanceInput},
    },
};

mod support;

use support::{actor, resource_service};

/// No cluster is in use.
struct NoSteps;

#[async_trait::async_trait]
impl ClusterUsage for NoSteps {
    async fn check_unused(&self, _token: &str, _cluster_id: &str) -> Result<(), ResourceError> {
        Ok(())
    }
}

fn office_hours() -> GovernanceFields {
    GovernanceFields {
        protected: true,
        deploy_windows: vec!["* 9-17 * * MON-FRI".to_owned(), "0 3 * * SAT".to_owned()],
        window_timezone: "Asia/Shanghai".to_owned(),
        frozen_until: Some("2026-12-24T18:00:00+08:00".to_owned()),
        outside_window: "refuse".to_owned(),
    }
}

async fn governance_is_saved_read_audited_and_forgotten(database: Database) {
    let service = resource_service(database.clone(), Arc::new(NoSteps));
    let admin = actor("root", "admin");
    let viewer = actor("vera", "viewer");
    let operator = actor("otto", "operator");
    service
        .upsert_env(&admin, Some("prod"), "生产环境", "")
        .await
        .expect("env");

    // Never governed: not protected, any time, waits.
    let before = service.env_governance(&viewer, "prod").await.expect("read");
    assert_eq!(before.env_name, "生产环境");
    assert!(!before.row.protected);
    assert!(before.windows.is_empty());
    assert_eq!(before.row.outside_window, "wait");
    assert_eq!(before.row.frozen_until, None);
    let mut trail = Trail::new(&database).await;

    // Only admins set it; the refusal changes nothing.
    let refused = service
        .set_env_governance(&operator, GovernanceInput::new("prod", office_hours()))
        .await
        .expect_err("operator");
    assert!(matches!(refused, ResourceError::Forbidden(_)), "{refused}");
    assert!(
        !service
            .env_governance(&viewer, "prod")
            .await
            .expect("read")
            .row
            .protected
    );

    let saved = service
        .set_env_governance(&admin, GovernanceInput::new("prod", office_hours()))
        .await
        .expect("save");
    assert!(saved.row.protected);
    let event = trail.one(("env.governance", "env", "prod"), "root").await;
    assert_eq!(change(&event, "protected")["before"], "false");
    assert_eq!(change(&event, "protected")["after"], "true");
    assert_eq!(change(&event, "outside_window")["after"], "refuse");

    // Read fresh by another role, the freeze in UTC.
    let read = service.env_governance(&viewer, "prod").await.expect("read");
    assert!(read.row.protected);
    assert_eq!(read.windows, ["* 9-17 * * MON-FRI", "0 3 * * SAT"]);
    assert_eq!(read.row.window_timezone, "Asia/Shanghai");
    assert_eq!(
        read.row.frozen_until.map(format_time).as_deref(),
        Some("2026-12-24 10:00:00")
    );
    assert_eq!(read.row.outside_window, "refuse");
    assert_eq!(read.row.mender, "root");

    // A bad field is named and changes nothing.
    let bad = GovernanceFields {
        deploy_windows: vec!["* 25 * * *".to_owned()],
        ..office_hours()
    };
    let refused = service
        .set_env_governance(&admin, GovernanceInput::new("prod", bad))
        .await
        .expect_err("bad window");
    assert!(refused.to_string().contains("deploy_windows"), "{refused}");
    assert!(refused.to_string().contains("hour"), "{refused}");
    let unknown = service
        .set_env_governance(&admin, GovernanceInput::new("nowhere", office_hours()))
        .await
        .expect_err("unknown env");
    assert!(
        matches!(unknown, ResourceError::NotFound { .. }),
        "{unknown}"
    );
    trail.none("refused governance saves").await;

    // Lifting the protection: the next read says so at once.
    let lifted = GovernanceFields {
        protected: false,
        ..office_hours()
    };
    service
        .set_env_governance(&admin, GovernanceInput::new("prod", lifted))
        .await
        .expect("lift");
    assert!(
        !service
            .env_governance(&viewer, "prod")
            .await
            .expect("read")
            .row
            .protected
    );
    let event = trail.one(("env.governance", "env", "prod"), "root").await;
    assert_eq!(change(&event, "protected")["after"], "false");

    // Deleting the environment forgets its governance: a new one of that id starts ungoverned.
    service
        .set_env_governance(&admin, GovernanceInput::new("prod", office_hours()))
        .await
        .expect("protect again");
    service.delete_env(&admin, "prod").await.expect("delete");
    service
        .upsert_env(&admin, Some("prod"), "again", "")
        .await
        .expect("recreate");
    let fresh = service.env_governance(&viewer, "prod").await.expect("read");
    assert!(!fresh.row.protected);
}

/// A deploy-windows column that cannot be read fails the read: a protected environment never
/// looks window-less (open at any time) to the jobs service.
async fn unreadable_windows_fail_the_read(database: Database) {
    let admin = actor("root", "admin");
    let writer = resource_service(database.clone(), Arc::new(NoSteps));
    writer
        .upsert_env(&admin, Some("prod"), "prod", "")
        .await
        .expect("env");
    writer
        .set_env_governance(&admin, GovernanceInput::new("prod", office_hours()))
        .await
        .expect("save");
    database
        .run(|connection: &mut common::db::DbConnection| {
            use diesel::RunQueryDsl;
            diesel::sql_query(
                "UPDATE env_governance SET deploy_windows = '[\"* 9-17 * * MON-FRI\"' WHERE env_id = 'prod'",
            )
            .execute(connection)
            .map_err(common::db::DbError::Query)
        })
        .await
        .expect("break the column");
    let reader = resource_service(database, Arc::new(NoSteps));
    let error = reader
        .env_governance(&actor("jobs", "viewer"), "prod")
        .await
        .expect_err("unreadable");
    assert!(
        matches!(error, ResourceError::Unreadable { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("deploy windows"), "{error}");
}

database_test_suite!(MIGRATIONS;
    governance_is_saved_read_audited_and_forgotten,
    unreadable_windows_fail_the_read,
);
