//! The configuration writes: webhooks, templates, instances, step bindings, joint lines and
//! work orders, each appending one event.

use serde_json::json;
use svc_jobs::service::{
    bindings::AllBindings,
    instances::{CopyInput, InstanceInput},
    joint_lines::NodeInput,
    templates::{MethodChoice, TemplateInput},
};

use super::*;

/// An instance `name` of a new one-method template ([`METHOD`]) in [`APP`] / [`ENV`], made by
/// `actor`, each of the three writes checked to append its event: (template id, instance id).
pub(crate) async fn template_and_instance(
    fixture: &Fixture,
    actor: &Actor,
    name: &str,
) -> (String, String) {
    let service = &fixture.service;
    let who = actor.username();
    let before = fixture.count().await;
    let input = TemplateInput {
        name: format!("{name} template"),
        application_id: APP.into(),
        ..TemplateInput::default()
    };
    let template = service
        .create_template(actor, input)
        .await
        .expect("template");
    let template_id = template.row.id;
    let event = fixture
        .one_new_event(before, "template.create", "template", &template_id, who)
        .await;
    assert_eq!(event.app_id.as_deref(), Some(APP));
    assert!(changes_of(&event).contains(&format!("name: - -> {name} template")));
    let methods = vec![MethodChoice {
        sequence: 0,
        component_id: COMPONENT.into(),
        method_id: METHOD.into(),
    }];
    let replaced = service.replace_template_methods(actor, &template_id, methods);
    let template_event = ["template.update_methods", "template", &template_id, who];
    let (_, event) = fixture.recorded(replaced, template_event).await;
    assert_eq!(changes_of(&event), [r#"methods: [] -> ["0 custom/cu1"]"#]);
    let before = fixture.count().await;
    let input = InstanceInput {
        name: name.into(),
        env_id: ENV.into(),
        application_id: APP.into(),
        job_template_id: template_id.clone(),
        ..InstanceInput::default()
    };
    let instance = service
        .create_instance(actor, input)
        .await
        .expect("instance");
    let event = fixture
        .one_new_event(before, "instance.create", "instance", &instance.row.id, who)
        .await;
    assert_eq!(
        (event.app_id.as_deref(), event.env_id.as_deref()),
        (Some(APP), Some(ENV))
    );
    (template_id, instance.row.id)
}

pub(crate) async fn configuration_writes_append_one_event_each(database: Database) {
    let fixture = fixture(database).await;
    let admin = actor("admin", "admin");
    let alice = actor("alice", "operator");

    // Webhooks.
    let before = fixture.count().await;
    let webhook = fixture
        .service
        .add_webhook(&admin, "https://hooks.example.com/tad")
        .await
        .expect("webhook");
    let event = fixture
        .one_new_event(
            before,
            "webhook.create",
            "webhook",
            &webhook.row.id,
            "admin",
        )
        .await;
    assert_eq!(
        changes_of(&event),
        ["url: - -> https://hooks.example.com/tad"]
    );
    assert_eq!(event.role, "admin");
    let before = fixture.count().await;
    fixture
        .service
        .delete_webhook(&admin, &webhook.row.id)
        .await
        .expect("delete webhook");
    let event = fixture
        .one_new_event(
            before,
            "webhook.delete",
            "webhook",
            &webhook.row.id,
            "admin",
        )
        .await;
    assert_eq!(
        changes_of(&event),
        ["url: https://hooks.example.com/tad -> -"]
    );

    // A template with its methods and an instance of it (the template is deleted at the end).
    let (template_id, instance_id) = template_and_instance(&fixture, &alice, "web").await;

    // The step's cluster, then each binding route.
    let step_id = format!("{instance_id}/{METHOD}/0");
    let before = fixture.count().await;
    fixture
        .service
        .save_step_cluster(&alice, &instance_id, METHOD, 0, CLUSTER)
        .await
        .expect("cluster");
    let event = fixture
        .one_new_event(before, "step.bind_cluster", "step", &step_id, "alice")
        .await;
    assert_eq!(changes_of(&event), [format!("cluster_id: - -> {CLUSTER}")]);
    assert_eq!(event.env_id.as_deref(), Some(ENV));

    let service = &fixture.service;
    let step = |action| [action, "step", step_id.as_str(), "alice"];
    // The built-in method has no parameters (masked values: `domain::audit`'s unit test).
    let params = service.save_step_params(&alice, &instance_id, METHOD, 0, json!({}));
    let (_, event) = fixture.recorded(params, step("step.save_params")).await;
    assert_eq!(changes_of(&event), Vec::<String>::new());
    let scripts = service.save_step_scripts(&alice, &instance_id, METHOD, 0, Vec::new());
    fixture.recorded(scripts, step("step.save_scripts")).await;
    let artifacts = service.save_step_artifacts(&alice, &instance_id, METHOD, 0, Vec::new());
    fixture
        .recorded(artifacts, step("step.save_artifacts"))
        .await;
    let all = AllBindings {
        rolling: Some((2, 5)),
        ..AllBindings::default()
    };
    let all = service.save_step_all(&alice, &instance_id, METHOD, 0, all);
    let (_, event) = fixture.recorded(all, step("step.save")).await;
    assert_eq!(
        changes_of(&event),
        ["batch_size: - -> 2", "batch_pause_secs: - -> 5"]
    );

    let before = fixture.count().await;
    let copy = fixture
        .service
        .copy_instance(
            &alice,
            &instance_id,
            CopyInput {
                name: "web copy".into(),
                ..CopyInput::default()
            },
        )
        .await
        .expect("copy");
    let event = fixture
        .one_new_event(before, "instance.copy", "instance", &copy.row.id, "alice")
        .await;
    assert!(
        changes_of(&event).contains(&format!("copied_from: - -> {instance_id}")),
        "{event:#?}"
    );

    // Work order.
    let before = fixture.count().await;
    fixture
        .service
        .save_work_order(&alice, &copy.row.id, None, json!({"CONTACTS": "sss"}), None)
        .await
        .expect("work order");
    fixture
        .one_new_event(before, "work_order.save", "instance", &copy.row.id, "alice")
        .await;

    // Joint lines.
    let before = fixture.count().await;
    let line = fixture
        .service
        .create_joint_line(&alice, "line", "", PRODUCT_LINE)
        .await
        .expect("joint line");
    fixture
        .one_new_event(before, "joint_line.create", "joint_line", &line.id, "alice")
        .await;
    let before = fixture.count().await;
    let nodes = vec![NodeInput {
        instance_id: copy.row.id.clone(),
        sequence: 0,
        parents: Vec::new(),
        top: 1.0,
        left: 2.0,
    }];
    fixture
        .service
        .save_joint_line(&alice, &line.id, nodes)
        .await
        .expect("save joint line");
    let event = fixture
        .one_new_event(before, "joint_line.save", "joint_line", &line.id, "alice")
        .await;
    assert_eq!(
        changes_of(&event),
        [format!(r#"nodes: [] -> ["0 {} []"]"#, copy.row.id)]
    );

    // Deletes: the instance, then (once no instance uses it) the template.
    let delete = service.delete_instance(&alice, &instance_id);
    let instance_event = ["instance.delete", "instance", &instance_id, "alice"];
    let (_, event) = fixture.recorded(delete, instance_event).await;
    assert_eq!(changes_of(&event), ["name: web -> -"]);
    let emptied = service.save_joint_line(&alice, &line.id, Vec::new()).await;
    emptied.expect("empty joint line");
    let delete = service.delete_instance(&alice, &copy.row.id).await;
    delete.expect("delete copy");
    let delete = service.delete_template(&alice, &template_id);
    let template_event = ["template.delete", "template", &template_id, "alice"];
    let (_, event) = fixture.recorded(delete, template_event).await;
    assert_eq!(changes_of(&event), ["name: web template -> -"]);
    assert_eq!(event.client_ip, "", "no request around a direct call");
}
