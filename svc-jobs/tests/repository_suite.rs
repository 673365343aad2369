//! svc-jobs queries against real databases: every case runs on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.

use common::{database_test_suite, db::Database, time::now_utc};
use svc_jobs::db::{
    MIGRATIONS,
    models::{
        instances::{self, InstanceFilter, InstanceRow, StepRow},
        joint_lines::{self, JointLineRow, JointNodeRow},
        templates::{self, TemplateRow},
    },
};

fn template(id: &str, name: &str) -> TemplateRow {
    let now = now_utc();
    TemplateRow {
        id: id.into(),
        name: name.into(),
        remark: String::new(),
        template_type: "public".into(),
        status: "available".into(),
        deploy_type: "install".into(),
        application_id: "app".into(),
        rollback_template_id: None,
        creator: "admin".into(),
        create_time: now,
        mender: None,
        update_time: now,
    }
}

fn instance(id: &str, name: &str, application_id: &str) -> InstanceRow {
    let now = now_utc();
    InstanceRow {
        id: id.into(),
        name: name.into(),
        remark: String::new(),
        status: "init".into(),
        env_id: "env".into(),
        application_id: application_id.into(),
        product_line_id: "pl".into(),
        module_id: None,
        job_template_id: "t1".into(),
        creator: "admin".into(),
        create_time: now,
        mender: None,
        update_time: now,
    }
}

async fn instances_filter_page_and_keep_steps(database: Database) {
    database
        .transaction(|connection| {
            templates::insert(connection, &template("t1", "apache2"))?;
            for (id, name, app) in [
                ("i1", "web_100%", "a1"),
                ("i2", "web-2", "a1"),
                ("i3", "db", "a2"),
            ] {
                instances::insert(connection, &instance(id, name, app))?;
            }
            instances::insert_step(
                connection,
                &StepRow {
                    instance_id: "i1".into(),
                    sequence: 0,
                    component_id: "custom".into(),
                    method_id: "cu1".into(),
                    cluster_id: None,
                    bindings: "{}".into(),
                },
            )?;
            Ok::<_, common::db::DbError>(())
        })
        .await
        .expect("write");
    database
        .run(|connection| {
            let filter = InstanceFilter {
                application_id: Some("a1".into()),
                ..InstanceFilter::default()
            };
            let (count, rows) = instances::page(connection, &filter, 0, 1)?;
            assert_eq!((count, rows.len()), (2, 1));
            let literal = InstanceFilter {
                name_fragment: Some("100%".into()),
                ..InstanceFilter::default()
            };
            let found = instances::list(connection, &literal)?;
            assert_eq!(
                found.iter().map(|row| row.id.as_str()).collect::<Vec<_>>(),
                vec!["i1"],
                "% is taken literally"
            );
            assert_eq!(instances::using_template(connection, "t1")?.len(), 3);
            let mut step = instances::steps(connection, "i1")?.remove(0);
            step.cluster_id = Some("c1".into());
            instances::update_step(connection, &step)?;
            assert_eq!(
                instances::steps(connection, "i1")?[0].cluster_id.as_deref(),
                Some("c1")
            );
            assert_eq!(instances::delete(connection, "i1")?, 1);
            assert!(
                instances::steps(connection, "i1")?.is_empty(),
                "steps go with their instance"
            );
            Ok::<_, common::db::DbError>(())
        })
        .await
        .expect("read");
}

async fn joint_line_nodes_are_replaced_whole(database: Database) {
    database
        .transaction(|connection| {
            templates::insert(connection, &template("t1", "apache2"))?;
            instances::insert(connection, &instance("i1", "a", "a1"))?;
            instances::insert(connection, &instance("i2", "b", "a1"))?;
            let now = now_utc();
            joint_lines::insert(
                connection,
                &JointLineRow {
                    id: "j1".into(),
                    name: "line".into(),
                    remark: String::new(),
                    product_line_id: "pl".into(),
                    creator: "admin".into(),
                    create_time: now,
                    mender: None,
                    update_time: now,
                },
            )?;
            let node = |sequence: i64, instance_id: &str, parents: &str, left: f64| JointNodeRow {
                joint_line_id: "j1".into(),
                sequence,
                instance_id: instance_id.into(),
                parents: parents.into(),
                canvas_top: 125.0,
                canvas_left: left,
            };
            joint_lines::replace_nodes(
                connection,
                "j1",
                &[
                    node(0, "i1", "[]", 256.99998474121093),
                    node(1, "i2", "[0]", 1.0),
                ],
            )?;
            joint_lines::replace_nodes(connection, "j1", &[node(0, "i2", "[]", 3.5)])?;
            let nodes = joint_lines::nodes(connection, "j1")?;
            assert_eq!(nodes.len(), 1);
            assert_eq!(
                (nodes[0].instance_id.as_str(), nodes[0].canvas_left),
                ("i2", 3.5)
            );
            assert_eq!(
                joint_lines::holding_instance(connection, "i2")?,
                vec!["j1".to_owned()]
            );
            assert!(joint_lines::holding_instance(connection, "i1")?.is_empty());
            Ok::<_, common::db::DbError>(())
        })
        .await
        .expect("joint line");
}

database_test_suite!(MIGRATIONS;
    instances_filter_page_and_keep_steps,
    joint_line_nodes_are_replaced_whole,
);
