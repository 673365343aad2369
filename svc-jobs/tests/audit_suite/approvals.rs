//! Approvals (issue 20) in the jobs rules: on a protected environment 6.1 makes a deployment
//! request instead of a run (one `approval.request` event, the same request for a repeat); the
//! requester may not approve it (four-eyes), an operator neither; an approver's approval starts
//! exactly the frozen plan and records who approved; a decided request cannot be decided again;
//! a reject needs a comment.

use svc_jobs::{
    db::models::approvals::{ApprovalFilter, status},
    domain::{ApprovalRefusal, JobsError},
    service::{executions::RunRequest, records::Mode},
};

use super::*;

pub(crate) async fn protected_runs_wait_for_another_users_approval(database: Database) {
    let fixture = fixture_governed(database, true).await;
    let admin = actor("admin", "admin");
    let bob = actor("bob", "operator");
    let ann = actor("ann", "approver");
    let (_, instance) = writes::template_and_instance(&fixture, &admin, "approvals").await;
    fixture
        .service
        .save_step_cluster(&admin, &instance, METHOD, 0, CLUSTER)
        .await
        .expect("cluster");
    let run = RunRequest::Instance {
        instance_id: &instance,
        mode: Mode::All,
        use_tad_host: true,
    };

    // 6.1 on the protected environment: a request, not a run.
    let before = fixture.count().await;
    let asked = fixture
        .service
        .start_run(&bob, run, false, None)
        .await
        .expect("6.1 asks");
    assert!(!asked.result, "{asked:?}");
    assert_eq!(asked.status, "approval_required");
    assert!(asked.execution_id.is_empty(), "{asked:?}");
    let request_id = asked.request_id.clone().expect("request id");
    assert!(
        asked.msg.as_deref().unwrap_or_default().contains("approv"),
        "{asked:?}"
    );
    fixture
        .one_new_event(before, "approval.request", "approval", &request_id, "bob")
        .await;
    // Asking again while it is pending answers the same request.
    let again = fixture
        .service
        .start_run(&bob, run, false, None)
        .await
        .expect("again");
    assert_eq!(again.request_id.as_deref(), Some(request_id.as_str()));

    let (count, pending) = fixture
        .service
        .list_approvals(
            &ann,
            ApprovalFilter {
                status: Some(status::PENDING.to_owned()),
                ..ApprovalFilter::default()
            },
            common::paging::PageRequest::new(1, 20),
        )
        .await
        .expect("list");
    assert_eq!(count, 1);
    assert_eq!(pending[0].id, request_id);
    let (_, frozen) = fixture
        .service
        .approval(&ann, &request_id)
        .await
        .expect("details");
    assert_eq!(frozen.len(), 1);
    assert_eq!(frozen[0].0, instance);

    // Four-eyes: not the requester; an operator is no approver; a reject needs a comment.
    let own = fixture
        .service
        .approve(&bob, &request_id, None)
        .await
        .expect_err("own request");
    assert!(
        matches!(
            own,
            JobsError::Forbidden(_)
                | JobsError::ApprovalRefused {
                    reason: ApprovalRefusal::OwnRequest,
                    ..
                }
        ),
        "{own}"
    );
    let operator = actor("olga", "operator");
    assert!(
        fixture
            .service
            .approve(&operator, &request_id, None)
            .await
            .is_err()
    );
    assert!(fixture.service.reject(&ann, &request_id, "").await.is_err());

    // An approver's approval starts the frozen plan: one event, naming the run.
    let before = fixture.count().await;
    let decision = fixture
        .service
        .approve(&ann, &request_id, Some("ok for the release"))
        .await
        .expect("approve");
    assert_eq!(decision.request.status, status::STARTED, "{decision:?}");
    assert_eq!(decision.request.decided_by.as_deref(), Some("ann"));
    let execution_id = decision.request.execution_id.clone().expect("run");
    assert!(!execution_id.is_empty());
    fixture
        .one_new_event(before, "approval.approve", "approval", &request_id, "ann")
        .await;
    // Decided once: a second decision is refused.
    let twice = fixture
        .service
        .reject(&admin, &request_id, "too late")
        .await
        .expect_err("decided");
    assert!(
        matches!(
            twice,
            JobsError::ApprovalRefused {
                reason: ApprovalRefusal::Decided,
                ..
            }
        ),
        "{twice}"
    );
    fixture.verify(fixture.count().await).await;
}
