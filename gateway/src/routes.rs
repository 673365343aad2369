//! THE route table: one declaration per route (method, path, handler, contract section, OpenAPI
//! tag and summary, access, request body type, answer), sorted by path. `routing.rs` says what a
//! declaration is; from this table it registers the actix routes (`configure`), the middleware
//! applies each route's access rule, and `openapi.rs` writes each operation. Every path also
//! answers with a trailing slash (see `NormalizePath` in lib.rs); a known path with another
//! method answers 405 in the failure envelope, an unknown path 404.

use common::auth::Role;

use crate::{
    assets, console,
    convert::{
        approvals::{ApprovalDecision, ApprovalDetails, ApprovalItem, DecisionBody},
        artifact::{
            ComponentItem, ConfigNode, ConfigureFile, ConfigureVersions, FileText, SyncedFile,
        },
        audit::AuditItem,
        catalog::{
            ApplicationBody, CatalogRecord, ClusterTypeBody, ClusterTypeRecord, CreateUserBody,
            EnvBody, EnvGovernanceRecord, EnvItem, GovernanceBody, IdName, Identity, LoggedOut,
            LoginBody, LoginData, ModuleBody, Nothing, ProductLineBody, RecordId, UpdateUserBody,
            UserRecord,
        },
        executions::{ExecuteResult, ExecutionTree, LogChunk, WebhookItem},
        jobs::{
            CopiedInstance, CopyBody, CreatedTemplate, GradedBody, GradedMethodItem,
            GradedTemplate, InstanceBody, InstanceDetails, InstanceItem, JointLineBody,
            JointLineItem, JointStructure, SaveJointLineBody, SavedWorkOrder, TemplateBody,
            TemplateItem, TemplateSelectItem,
        },
        plans::{InstancePlanView, JointLinePlanView, PlanBody},
        resource::{
            AdminClusterItem, AdminHostItem, ClusterBody, ClusterItem, ClusterSelectItem,
            ClusterTypeItem, DeletedCluster, DeletedHost, HostBindItem, HostBody, HostIdsBody,
            HostItem, UpdatedClusterItem,
        },
        schedules::{ScheduleBody, ScheduleItem},
        steps::{
            ConfigGroupValues, SavedStepArtifacts, StepAllData, StepArtifactItem, StepParams,
            StepScriptItem,
        },
        tokens::{CreatedToken, TokenBody, TokenItem},
    },
    legacy::{
        admin, appinhouse, appinhouse_files, appinhouse_pages, approvals, artifact, audit, auth,
        catalog, executions, executions::ExecuteBody, executions::WebhookBody, jobs, ops, plans,
        resource as res, schedules, tokens,
    },
    openapi::{
        self,
        contract::{
            AppForm, BuildForm, ExtendForm, ProtectForm, ResidueForm, ShareForm, UnlockForm, Upload,
        },
    },
    routing::{Answer, Route, delete, get, post, register, to},
};

const PAGED: &[&str] = &["page", "page_size"];
const WAIT: &[&str] = &["wait"];
/// The header of the routes that start work (see `crate::idempotency`).
const KEYED: &[(&str, &str, usize)] = &[(
    "Idempotency-Key",
    "Optional, 1-128 visible ASCII characters: the same key sent again by the same user on the same route answers the execution the first request started instead of starting another (for 24 hours); the same key with another request is refused (idempotency_key_reused).",
    crate::idempotency::MAX_KEY_CHARS,
)];
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The admin lists: admins, and auditors (who read everything and write nothing).
const ADMIN_READERS: &[Role] = &[Role::Auditor];
/// The audit trail's readers (admins pass every role check).
const AUDIT_READERS: &[Role] = &[Role::Auditor];
const AUDIT_FILTER: &[&str] = &[
    "actor",
    "action",
    "object_kind",
    "object_id",
    "app_id",
    "env_id",
    "since",
    "until",
];
const AUDIT_QUERY: &[&str] = &[
    "actor",
    "action",
    "object_kind",
    "object_id",
    "app_id",
    "env_id",
    "since",
    "until",
    "page",
    "page_size",
];

/// Every route, in the order actix tries them (sorted by path: a literal segment before `{id}`).
/// One declaration per route (not reformatted, so that each stays one line).
#[rustfmt::skip]
pub const ROUTES: &[Route] = &[
    // the console (issue 18): `/` leads to it
    get("/", to!(console::home)).doc("issue 18", "console", "The console: to the dashboard (to the login page without a session)").answer(Answer::ConsolePage),
    // SPEC §2 admin routes
    get("/api/admin/applications", to!(admin::list_applications)).doc("SPEC §2", "admin", "List applications").roles(ADMIN_READERS).data_list::<CatalogRecord>().kept(),
    post("/api/admin/applications", to!(admin::upsert_application)).doc("SPEC §2", "admin", "Create or update an application").json::<ApplicationBody>().data::<CatalogRecord>().audits("application.save", "application"),
    delete("/api/admin/applications/{id}", to!(admin::delete_application)).doc("SPEC §2", "admin", "Delete an application").data::<RecordId>().audits("application.delete", "application"),
    get("/api/admin/clusters", to!(res::admin_list_clusters)).doc("SPEC §2", "admin", "List clusters (CMDB view)").roles(ADMIN_READERS).data_list::<AdminClusterItem>().kept(),
    post("/api/admin/clusters", to!(res::admin_upsert_cluster)).doc("SPEC §2", "admin", "Create or update a CMDB-owned cluster").json::<ClusterBody>().data::<AdminClusterItem>().audits("cluster.save", "cluster"),
    delete("/api/admin/clusters/{id}", to!(res::admin_delete_cluster)).doc("SPEC §2", "admin", "Delete a cluster").data::<RecordId>().audits("cluster.delete", "cluster"),
    get("/api/admin/cluster-types", to!(admin::list_cluster_types)).doc("SPEC §2", "admin", "List cluster types").roles(ADMIN_READERS).data_list::<ClusterTypeRecord>().kept(),
    post("/api/admin/cluster-types", to!(admin::upsert_cluster_type)).doc("SPEC §2", "admin", "Create or update a cluster type").json::<ClusterTypeBody>().data::<ClusterTypeRecord>().audits("cluster_type.save", "cluster_type"),
    delete("/api/admin/cluster-types/{key}", to!(admin::delete_cluster_type)).doc("SPEC §2", "admin", "Delete a cluster type").data::<RecordId>().audits("cluster_type.delete", "cluster_type"),
    get("/api/admin/envs", to!(admin::list_envs)).doc("SPEC §2", "admin", "List environments").roles(ADMIN_READERS).data_list::<CatalogRecord>().kept(),
    post("/api/admin/envs", to!(admin::upsert_env)).doc("SPEC §2", "admin", "Create or update an environment").json::<EnvBody>().data::<CatalogRecord>().audits("env.save", "env"),
    delete("/api/admin/envs/{id}", to!(admin::delete_env)).doc("SPEC §2", "admin", "Delete an environment").data::<RecordId>().audits("env.delete", "env"),
    get("/api/admin/envs/{id}/governance", to!(admin::env_governance)).doc("issue 20", "admin", "An environment's governance: protected, deploy windows, freeze").data::<EnvGovernanceRecord>(),
    post("/api/admin/envs/{id}/governance", to!(admin::set_env_governance)).doc("issue 20", "admin", "Set an environment's governance (admin)").json::<GovernanceBody>().data::<EnvGovernanceRecord>().audits("env.governance", "env"),
    get("/api/admin/hosts", to!(res::admin_list_hosts)).doc("SPEC §2", "admin", "List hosts (CMDB view)").roles(ADMIN_READERS).data_list::<AdminHostItem>().kept(),
    post("/api/admin/hosts", to!(res::admin_upsert_host)).doc("SPEC §2", "admin", "Create or update a CMDB-owned host").json::<HostBody>().data::<AdminHostItem>().audits("host.save", "host"),
    delete("/api/admin/hosts/{id}", to!(res::admin_delete_host)).doc("SPEC §2", "admin", "Delete a host").data::<RecordId>().audits("host.delete", "host"),
    get("/api/admin/modules", to!(admin::list_modules)).doc("SPEC §2", "admin", "List modules").roles(ADMIN_READERS).data_list::<CatalogRecord>().kept(),
    post("/api/admin/modules", to!(admin::upsert_module)).doc("SPEC §2", "admin", "Create or update a module").json::<ModuleBody>().data::<CatalogRecord>().audits("module.save", "module"),
    delete("/api/admin/modules/{id}", to!(admin::delete_module)).doc("SPEC §2", "admin", "Delete a module").data::<RecordId>().audits("module.delete", "module"),
    get("/api/admin/productlines", to!(admin::list_product_lines)).doc("SPEC §2", "admin", "List product lines").roles(ADMIN_READERS).data_list::<CatalogRecord>().kept(),
    post("/api/admin/productlines", to!(admin::upsert_product_line)).doc("SPEC §2", "admin", "Create or update a product line").json::<ProductLineBody>().data::<CatalogRecord>().audits("product_line.save", "product_line"),
    delete("/api/admin/productlines/{id}", to!(admin::delete_product_line)).doc("SPEC §2", "admin", "Delete a product line").data::<RecordId>().audits("product_line.delete", "product_line"),
    get("/api/admin/users", to!(admin::list_users)).doc("SPEC §2", "admin", "List users").data_list::<UserRecord>(),
    post("/api/admin/users", to!(admin::create_user)).doc("SPEC §2", "admin", "Create a user").json::<CreateUserBody>().data::<UserRecord>().audits("user.create", "user"),
    delete("/api/admin/users/{id}", to!(admin::delete_user)).doc("SPEC §2", "admin", "Delete a user (ends their sessions)").data::<RecordId>().audits("user.delete", "user"),
    post("/api/admin/users/{id}", to!(admin::update_user)).doc("SPEC §2", "admin", "Change a user's password or roles (ends their sessions)").json::<UpdateUserBody>().data::<UserRecord>().audits("user.update", "user"),
    get("/api/admin/webhooks", to!(executions::list_webhooks)).doc("SPEC §5", "admin", "List run webhooks").data_list::<WebhookItem>(),
    post("/api/admin/webhooks", to!(executions::add_webhook)).doc("SPEC §5", "admin", "Add a run webhook").json::<WebhookBody>().data::<WebhookItem>().audits("webhook.create", "webhook"),
    delete("/api/admin/webhooks/{id}", to!(executions::delete_webhook)).doc("SPEC §5", "admin", "Delete a run webhook").data::<Nothing>().audits("webhook.delete", "webhook"),
    // legacy contract (tad-api.md), by section
    get("/api/app/applications/{id}/select_by_pl", to!(catalog::applications_of_product_line)).doc("1.2 / 3.2", "catalog", "Applications of a product line").data_list::<IdName>().kept(),
    get("/api/app/jobinstance/aos_json", to!(jobs::query_instances)).doc("5.5", "instances", "Query job instances").query(&["name", "application_id", "page", "page_size"]).page_of::<InstanceItem>().kept(),
    post("/api/app/jobinstance/create", to!(jobs::create_instance)).doc("5.2", "instances", "Create a job instance").json::<InstanceBody>().data::<RecordId>().audits("instance.create", "instance"),
    get("/api/app/jobinstance/jobi_list_one", to!(jobs::list_instances)).doc("1.3 / 7.1", "instances", "Job instances of an application").query(&["product_line_id", "application_id", "name"]).data_list::<InstanceItem>().kept(),
    post("/api/app/jobinstance/online/process/save", to!(jobs::save_work_order)).doc("7.3", "instances", "Save a work order").json::<jobs::WorkOrderBody>().data::<SavedWorkOrder>().audits("work_order.save", "instance"),
    get("/api/app/jobinstance/{cpm_id}/config/desc", to!(jobs::method_params_schema)).doc("5.8.2.5", "steps", "Parameter schema of a method").data_list::<ConfigNode>().kept(),
    delete("/api/app/jobinstance/{id}", to!(jobs::delete_instance)).doc("5.9", "instances", "Delete a job instance").data::<Nothing>().audits("instance.delete", "instance"),
    post("/api/app/jobinstance/{id}/copy", to!(jobs::copy_instance)).doc("5.7", "instances", "Copy a job instance").json::<CopyBody>().data::<CopiedInstance>().audits("instance.copy", "instance"),
    get("/api/app/jobinstance/{id}/details", to!(jobs::instance_details)).doc("5.10 / 7.2", "instances", "Job instance details").data::<InstanceDetails>().kept(),
    post("/api/app/jobinstance/{id}/executionall", to!(executions::execute_all)).doc("6.1", "executions", "Run every remaining step").optional_json::<ExecuteBody>().query(WAIT).headers(KEYED).data::<ExecuteResult>().audits("execution.start", "execution"),
    get("/api/app/jobinstance/{id}/executions", to!(executions::execution_history)).doc("SPEC §5", "executions", "Runs of an instance, newest first").page().query(PAGED),
    get("/api/app/jobinstance/{id}/online/process/export", to!(jobs::export_work_order)).doc("", "instances", "Export the work order (xlsx)").answer(Answer::File(XLSX)).kept(),
    post("/api/app/jobinstance/{id}/plan", to!(plans::plan_instance)).doc("issue 21", "executions", "Dry run of 6.1: the steps, hosts per batch, artifacts (which hosts differ from the last successful run), rendered configs as unified diffs, parameters as a diff (secrets masked), scripts and their review, what would block the run, and a plan_id that 6.1 takes to run exactly this").optional_json::<PlanBody>().data::<InstancePlanView>(),
    post("/api/app/jobinstance/{id}/rollback", to!(executions::rollback)).doc("SPEC §5", "executions", "Roll back to the previous successful snapshot").optional_json::<ExecuteBody>().query(WAIT).headers(KEYED).data::<ExecuteResult>().audits("execution.rollback", "execution"),
    post("/api/app/jobinstance/{id}/setp_execution", to!(executions::execute_step)).doc("6.2", "executions", "Run the next step (the legacy spelling is the URL)").optional_json::<ExecuteBody>().query(WAIT).headers(KEYED).data::<ExecuteResult>().audits("execution.step", "execution"),
    post("/api/app/jobinstance/{id}/stop_execution", to!(executions::stop_execution)).doc("6.3", "executions", "Stop the running step").optional_json::<ExecuteBody>().data::<ExecuteResult>().audits("execution.stop", "execution"),
    post("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/alldata/read", to!(jobs::step_all_data)).doc("5.8.1", "steps", "Everything configured on a step").data::<StepAllData>(),
    get("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/artifact/json", to!(jobs::step_artifacts)).doc("5.8.2.2", "steps", "Artifacts of a step").data_list::<StepArtifactItem>().kept(),
    get("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/actemplate/config/desc", to!(jobs::step_config_schema)).doc("5.8.2.3", "steps", "App-config schema of a step").data_list::<ConfigNode>().kept(),
    get("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/actemplate/{file_id}/config/value", to!(jobs::step_config_values)).doc("5.8.2.4", "steps", "App-config values of a step").data_list::<ConfigGroupValues>().kept(),
    post("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/config/update", to!(jobs::save_step_params)).doc("5.6.2.4", "steps", "Save the parameters of a step").json::<jobs::ParamsBody>().data::<bool>().audits("step.save_params", "step"),
    get("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/config/value", to!(jobs::step_params)).doc("5.8.2.6", "steps", "Parameters of a step").data::<StepParams>().kept(),
    post("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/relation/alldata", to!(jobs::save_step_all)).doc("5.6.1", "steps", "Save everything of a step").json::<jobs::AllBody>().data::<bool>().audits("step.save", "step"),
    post("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/relation/artifact", to!(jobs::save_step_artifacts)).doc("5.6.2.2", "steps", "Save the artifacts of a step").json::<jobs::ArtifactsBody>().data::<SavedStepArtifacts>().audits("step.save_artifacts", "step"),
    post("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/relation/actemplate", to!(jobs::save_step_configs)).doc("5.6.2.3", "steps", "Save the app-configs of a step").json::<jobs::ConfigsBody>().data::<bool>().audits("step.save_configs", "step"),
    post("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/relation/script", to!(jobs::save_step_scripts)).doc("5.6.2.5", "steps", "Save the scripts of a step").json::<jobs::ScriptsBody>().data::<bool>().audits("step.save_scripts", "step"),
    get("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/script/json", to!(jobs::step_scripts)).doc("5.8.2.7", "steps", "Scripts of a step").data_list::<StepScriptItem>().kept(),
    post("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/{cluster_id}/relation/cluster", to!(jobs::save_step_cluster)).doc("5.6.2.1", "steps", "Bind a cluster to a step").data::<bool>().audits("step.bind_cluster", "step"),
    get("/api/app/jobtemplate/aos_json", to!(jobs::query_templates)).doc("4.1", "templates", "Query job templates").query(&["name", "application_id", "page", "page_size"]).page_of::<TemplateItem>().kept(),
    post("/api/app/jobtemplate/create", to!(jobs::create_template)).doc("beyond the contract", "templates", "Create a job template").json::<TemplateBody>().data::<CreatedTemplate>().audits("template.create", "template"),
    get("/api/app/jobtemplate/ordinary/select", to!(jobs::template_select)).doc("5.3", "templates", "Templates to choose from").data_list::<TemplateSelectItem>().kept(),
    delete("/api/app/jobtemplate/{id}", to!(jobs::delete_template)).doc("4.5", "templates", "Delete a job template").data::<bool>().audits("template.delete", "template"),
    post("/api/app/jobtemplate/{id}", to!(jobs::delete_template)).doc("4.5", "templates", "Delete a job template (the contract's \"[PSOT]\")").data::<bool>().audits("template.delete", "template"),
    post("/api/app/jobtemplate/{id}/graded", to!(jobs::replace_template_methods)).doc("4.2", "templates", "Replace the methods of a template").json::<GradedBody>().data::<GradedTemplate>().audits("template.update_methods", "template"),
    get("/api/app/jobtemplate/{id}/graded_content", to!(jobs::template_methods)).doc("4.3", "templates", "Methods of a template").data_list::<GradedMethodItem>().kept(),
    get("/api/app/jointline/aos_json", to!(jobs::query_joint_lines)).doc("1.6", "joint lines", "Query joint lines").query(&["name", "productline_id", "page", "page_size"]).page_of::<JointLineItem>().kept(),
    post("/api/app/jointline/create", to!(jobs::create_joint_line)).doc("1.7", "joint lines", "Create a joint line").json::<JointLineBody>().data::<String>().audits("joint_line.create", "joint_line"),
    get("/api/app/jointline/get_structure/{id}", to!(jobs::joint_line_structure)).doc("1.5", "joint lines", "Structure of a joint line").data::<JointStructure>().kept(),
    post("/api/app/jointline/save", to!(jobs::save_joint_line)).doc("1.4", "joint lines", "Save a joint line").json::<SaveJointLineBody>().data::<RecordId>().audits("joint_line.save", "joint_line"),
    post("/api/app/jointline/{id}/plan", to!(plans::plan_joint_line)).doc("issue 21", "executions", "Dry run of 2.1: each node with its parents and its instance's plan (as the instance plan route answers it), every blocker naming its node, and a plan_id that 2.1 takes to run exactly this").optional_json::<PlanBody>().data::<JointLinePlanView>(),
    post("/api/app/jointline/{id}/execution", to!(executions::execute_joint_line)).doc("2.1", "executions", "Run a joint line").optional_json::<ExecuteBody>().query(WAIT).headers(KEYED).data::<ExecuteResult>().audits("joint_line.run", "joint_execution"),
    get("/api/app/productline/select", to!(catalog::product_line_select)).doc("1.1 / 3.1", "catalog", "Product lines").data_list::<IdName>().kept(),
    post("/api/artifact/configure/aos_upload", to!(artifact::configure_upload)).doc("5.11.1", "artifacts", "Upload app-config files").multipart::<Upload>().data_list::<ConfigureFile>().audits("config_file.upload", "config_file"),
    get("/api/artifact/configure/{id}/versions", to!(artifact::template_versions)).doc("SPEC §3", "artifacts", "Versions of an app-config template, newest first, with the .j2 file id 5.6.2.3 binds").data::<ConfigureVersions>().kept(),
    get("/api/artifact/files/{id}/download", to!(artifact::download)).doc("SPEC §3", "artifacts", "Download a stored file (Range supported)").answer(Answer::File("application/octet-stream")),
    get("/api/artifact/filter/name/aos", to!(artifact::artifact_filter)).doc("5.11.1", "artifacts", "Artifacts by product line, application and type").query(&["product_line_id", "application_id", "type"]).data_list::<IdName>().kept(),
    post("/api/artifact/script/aos_upload", to!(artifact::script_upload)).doc("5.11.1", "artifacts", "Upload scripts").multipart::<Upload>().data_list::<SyncedFile>().audits("script.upload", "script"),
    post("/api/artifact/version/aos", to!(artifact::package_sync)).doc("9", "artifacts", "Package sync (upload a versioned package)").multipart::<Upload>().query(&["app_id", "name", "version", "file_md5"]).data::<SyncedFile>().audits("package.sync", "package"),
    get("/api/schedules", to!(schedules::list_schedules)).doc("issue 21", "schedules", "Scheduled deploys, newest first, with each one's next and last occurrence and what the last one did").query(&["page", "page_size"]).page_of::<ScheduleItem>(),
    post("/api/schedules", to!(schedules::create_schedule)).doc("issue 21", "schedules", "Schedule 6.1 of an instance (instance_id) or 2.1 of a joint line (jointline_id) at each occurrence of a five-field cron read in timezone (default UTC); exactly one replica fires each occurrence; approvals and deploy windows apply").json::<ScheduleBody>().data::<ScheduleItem>().audits("schedule.create", "schedule"),
    post("/api/schedules/{id}/pause", to!(schedules::pause_schedule)).doc("issue 21", "schedules", "Pause a schedule (no occurrence fires until it is resumed)").data::<ScheduleItem>().audits("schedule.pause", "schedule"),
    post("/api/schedules/{id}/resume", to!(schedules::resume_schedule)).doc("issue 21", "schedules", "Resume a schedule from its next occurrence (those passed while paused do not fire)").data::<ScheduleItem>().audits("schedule.resume", "schedule"),
    delete("/api/schedules/{id}", to!(schedules::delete_schedule)).doc("issue 21", "schedules", "Delete a schedule").data::<Nothing>().audits("schedule.delete", "schedule"),
    get("/api/approvals", to!(approvals::list_approvals)).doc("issue 20", "approvals", "Deployment requests on protected environments, newest first (?status=pending|waiting|started|rejected|void|expired)").query(&["status", "page", "page_size"]).page_of::<ApprovalItem>(),
    get("/api/approvals/{id}", to!(approvals::approval)).doc("issue 20", "approvals", "A deployment request with the plans it froze (secrets masked), to read before approving").data::<ApprovalDetails>(),
    post("/api/approvals/{id}/approve", to!(approvals::approve)).doc("issue 20", "approvals", "Approve a request (approver or admin, never its requester): starts exactly the frozen plans, now or at the next deploy window; void when the bindings changed").optional_json::<DecisionBody>().data::<ApprovalDecision>().audits("approval.approve", "approval"),
    post("/api/approvals/{id}/reject", to!(approvals::reject)).doc("issue 20", "approvals", "Reject a request with a comment (approver or admin, never its requester)").json::<DecisionBody>().data::<ApprovalDecision>().audits("approval.reject", "approval"),
    get("/api/audit", to!(audit::list_audit)).doc("issue 20", "audit", "Audit events of every service (writes, run actions, refusals), newest first, filtered; admins and auditors").roles(AUDIT_READERS).query(AUDIT_QUERY).page_of::<AuditItem>(),
    get("/api/audit/export.csv", to!(audit::export_csv)).doc("issue 20", "audit", "Every audit event the same filter selects, newest first, streamed as CSV; admins and auditors").roles(AUDIT_READERS).query(AUDIT_FILTER).answer(Answer::File("text/csv")),
    post("/api/auth/login", to!(auth::login)).doc("SPEC §1", "auth", "Log in: a bearer token").public().json::<LoginBody>().setup(|resource| resource.app_data(auth::login_body_limit())).data::<LoginData>().audits("session.login", "user"),
    post("/api/auth/logout", to!(auth::logout)).doc("SPEC §8", "auth", "Log out: ends the presented token's session").data::<LoggedOut>().audits("session.logout", "user"),
    get("/api/auth/me", to!(auth::me)).doc("SPEC §8", "auth", "Whose the presented token is: username and roles").data::<Identity>(),
    get("/api/auth/tokens", to!(tokens::list_tokens)).doc("issue 20", "auth", "The caller's API tokens (admins: everyone's, with the owner), with expiry and last use (to the minute); never a secret").data_list::<TokenItem>(),
    post("/api/auth/tokens", to!(tokens::create_token)).doc("issue 20", "auth", "Create an API token with some of the caller's roles (a password session only, not a token): its secret is answered this once; send it as Authorization: Bearer tad_...").json::<TokenBody>().data::<CreatedToken>().audits("api_token.create", "api_token"),
    delete("/api/auth/tokens/{id}", to!(tokens::revoke_token)).doc("issue 20", "auth", "Revoke an API token (the caller's own; admins: any): it answers 401 on every replica at once").data::<RecordId>().audits("api_token.revoke", "api_token"),
    get("/api/component/select", to!(artifact::component_select)).doc("4.4", "artifacts", "Components and methods").data_list::<ComponentItem>().kept(),
    post("/api/component/upload", to!(artifact::component_upload)).doc("SPEC §3", "artifacts", "Upload a method package").multipart::<Upload>().data::<SyncedFile>().audits("component.upload", "component"),
    get(openapi::DOCS_PATH, to!(openapi::docs_page)).doc("", "docs", "Swagger UI (redirects to its page)").public().answer(Answer::Redirect),
    get("/api/docs/{file}", to!(openapi::docs_file)).doc("", "docs", "A Swagger UI file").public().answer(Answer::StaticFile),
    get("/api/executions/{id}", to!(executions::execution)).doc("SPEC §5", "executions", "Run tree with statuses").data::<ExecutionTree>(),
    get("/api/executions/{id}/events", to!(executions::execution_events)).doc("SPEC §5", "executions", "Run events as Server-Sent Events").answer(Answer::Events).query(&["last_event_id"]),
    get("/api/executions/{id}/log", to!(executions::execution_log)).doc("SPEC §5", "executions", "A log chunk of a host task").query(&["host_task", "offset"]).data::<LogChunk>(),
    get("/api/executions/{id}/log/raw", to!(executions::execution_log_raw)).doc("issue 18", "executions", "A host task's whole log as text/plain (a download)").query(&["host_task"]).answer(Answer::File("text/plain")),
    post("/api/executions/{id}/retry", to!(executions::retry_execution)).doc("SPEC §5", "executions", "Retry the failed hosts of a run").query(WAIT).headers(KEYED).data::<ExecuteResult>().audits("execution.retry", "execution"),
    post("/api/jobinstance/{id}/{cpm_id}/{sequence}/出", to!(jobs::step_all_data)).doc("5.8.1", "steps", "Everything configured on a step, at the contract's literal URL").data::<StepAllData>(),
    get(openapi::DOCUMENT_PATH, to!(document_json)).doc("", "docs", "This OpenAPI document").public().answer(Answer::Document),
    delete("/api/resource/clusters/aos_deletes/{id}", to!(res::delete_cluster)).doc("8.1.9", "resources", "Delete a cluster").data::<DeletedCluster>().audits("cluster.delete", "cluster"),
    post("/api/resource/clusters/aos_create", to!(res::create_cluster)).doc("8.1.4", "resources", "Create a cluster").json::<ClusterBody>().data::<ClusterItem>().audits("cluster.create", "cluster"),
    get("/api/resource/clusters/aos_json", to!(res::query_clusters)).doc("8.1.3", "resources", "Query clusters").query(&["app", "name", "page", "page_size"]).page_of::<ClusterItem>().kept(),
    get("/api/resource/clusters/cmdb_type", to!(res::cluster_types)).doc("8.1.1", "resources", "Cluster types").data_list::<ClusterTypeItem>().kept(),
    get("/api/resource/clusters/list_4_select", to!(res::cluster_select)).doc("8.2.2", "resources", "Clusters to choose from").data_list::<ClusterSelectItem>().kept(),
    post("/api/resource/clusters/{id}/aos_bind", to!(res::bind_hosts)).doc("8.1.7", "resources", "Bind hosts to a cluster").json::<HostIdsBody>().data::<bool>().audits("cluster.bind_hosts", "cluster"),
    get("/api/resource/clusters/{id}/hosts", to!(res::cluster_hosts)).doc("8.1.6", "resources", "Hosts of a cluster").data_list::<HostBindItem>().kept(),
    get("/api/resource/clusters/{id}/hosts/select/pl", to!(res::cluster_host_candidates)).doc("8.1.5", "resources", "Hosts that may join a cluster").data_list::<HostBindItem>().kept(),
    post("/api/resource/clusters/{id}/unbind", to!(res::unbind_hosts)).doc("8.1.8", "resources", "Unbind hosts from a cluster").json::<HostIdsBody>().data::<bool>().audits("cluster.unbind_hosts", "cluster"),
    post("/api/resource/clusters/{id}/update", to!(res::update_cluster)).doc("8.1.10", "resources", "Update a cluster").json::<ClusterBody>().data::<UpdatedClusterItem>().audits("cluster.update", "cluster"),
    get("/api/resource/clusters/{id}/{app_id}/select/envapp", to!(res::cluster_of_app)).doc("5.4 / 5.8.2.1", "resources", "Clusters of an application").data_list::<ClusterSelectItem>().kept(),
    get("/api/resource/envs/select", to!(catalog::env_select)).doc("5.1 / 8.1.2 / 8.2.1", "catalog", "Environments").data_list::<EnvItem>().kept(),
    delete("/api/resource/hosts/aos_deletes/{id}", to!(res::delete_host)).doc("8.2.5", "resources", "Delete a host").data::<DeletedHost>().audits("host.delete", "host"),
    post("/api/resource/hosts/aos_create", to!(res::create_host)).doc("8.2.3", "resources", "Create a host").json::<HostBody>().data::<HostItem>().audits("host.create", "host"),
    get("/api/resource/hosts/aos_json", to!(res::query_hosts)).doc("8.2.4", "resources", "Query hosts").query(&["host_name", "productLine", "page", "page_size"]).page_of::<HostItem>().kept(),
    get("/api/resource/hosts/validate/{ssh_ip}/{ssh_user}/ssh", to!(res::validate_host)).doc("8.2.7", "resources", "Check the SSH login of a registered host").data::<bool>(),
    post("/api/resource/hosts/{id}/update", to!(res::update_host)).doc("8.2.6", "resources", "Update a host").json::<HostBody>().data::<HostItem>().audits("host.update", "host"),
    get("/api/script/index/aos_list", to!(artifact::script_list)).doc("5.11.1", "scripts", "Scripts of an application").query(&["application_id", "name"]).data_list::<IdName>().kept(),
    get("/api/script/index/detail_data/filedata/{id}", to!(artifact::file_text)).doc("5.11.4", "scripts", "Text of a script").data::<FileText>().kept(),
    post("/api/script/index/examine/{id}", to!(artifact::review)).doc("5.11.3", "scripts", "Review a script").json::<artifact::ReviewBody>().data::<IdName>().audits("script.review", "script"),
    get("/api/script/index/urole_script", to!(artifact::may_review)).doc("5.11.2", "scripts", "May the caller review scripts").data::<bool>().kept(),
    // appinhouse contract (appinhouse-api.md, SPEC §6); `apps` and `move` are reserved app names
    get("/api/v2/apps", to!(appinhouse::list_apps)).doc("SPEC §6", "appinhouse", "List apps").appinhouse().query(&["page"]).kept(),
    post("/api/v2/move/{app}/{sort_operation}", to!(appinhouse::move_app)).doc("SPEC §6", "appinhouse", "Move an app in the list").appinhouse().audits("app.move", "app"),
    post("/api/v2/{app}/archive/{platform}", to!(appinhouse::upload_build)).doc("SPEC §6", "appinhouse", "Upload a hosted build (ipa/apk/exe/msi)").appinhouse().secret_key().multipart::<Upload>().audits("build.upload", "build"),
    post("/api/v2/{app}/create", to!(appinhouse::create_app)).doc("SPEC §6", "appinhouse", "Create an app").appinhouse().secret_key().form::<AppForm>().audits("app.create", "app"),
    delete("/api/v2/{app}/delete", to!(appinhouse::delete_app)).doc("SPEC §6", "appinhouse", "Delete an app").appinhouse().secret_key().audits("app.delete", "app"),
    delete("/api/v2/{app}/delete/{platform}", to!(appinhouse::delete_old_builds)).doc("SPEC §6", "appinhouse", "Delete old builds, keeping `residue`").appinhouse().secret_key().form::<ResidueForm>().query(&["residue"]).audits("build.delete_old", "app"),
    post("/api/v2/{app}/desc/{platform}", to!(appinhouse::save_build)).doc("SPEC §6", "appinhouse", "Record a build").appinhouse().secret_key().form::<BuildForm>().audits("build.save", "build"),
    post("/api/v2/{app}/extenddesc/{platform}", to!(appinhouse::save_extend)).doc("SPEC §6", "appinhouse", "Record extra downloads of a build").appinhouse().secret_key().form::<ExtendForm>().audits("build.save_extend", "build"),
    get("/api/v2/{app}/last", to!(appinhouse::last_builds)).doc("SPEC §6", "appinhouse", "Newest build per platform").appinhouse().query(&["time_offset", "access"]).kept(),
    get("/api/v2/{app}/list/{platform}", to!(appinhouse::list_builds)).doc("SPEC §6", "appinhouse", "Builds of a platform").appinhouse().query(&["page", "time_offset", "access"]).kept(),
    get("/api/v2/{app}/mobile/last", to!(appinhouse::mobile_last)).doc("SPEC §6", "appinhouse", "Newest build for the caller's platform").appinhouse().query(&["time_offset", "access"]).kept(),
    get("/api/v2/{app}/mobile/list", to!(appinhouse::mobile_list)).doc("SPEC §6", "appinhouse", "Builds for the caller's platform").appinhouse().query(&["page", "time_offset", "access"]).kept(),
    get("/api/v2/{app}/plist/{version}.plist", to!(appinhouse::plist)).doc("SPEC §6", "appinhouse", "OTA manifest of an ios build").appinhouse().answer(Answer::AppinhouseFile("application/x-plist")).query(&["extend", "access"]).kept(),
    post("/api/v2/{app}/update", to!(appinhouse::update_app)).doc("SPEC §6", "appinhouse", "Update an app").appinhouse().secret_key().form::<AppForm>().audits("app.update", "app"),
    // appinhouse download page and hosted files
    get("/api/v2/{app}/installs", to!(appinhouse_pages::installs)).doc("issue 17", "appinhouse", "Install counts of an app's builds").appinhouse().query(&["access"]).kept(),
    post("/api/v2/{app}/protect", to!(appinhouse_pages::protect)).doc("issue 17", "appinhouse", "Set or lift the page password of an app").appinhouse().secret_key().form::<ProtectForm>().audits("app.protect", "app"),
    post("/api/v2/{app}/share", to!(appinhouse_pages::share)).doc("issue 17", "appinhouse", "A signed, expiring link to a protected app's page").appinhouse().secret_key().form::<ShareForm>().audits("app.share", "app"),
    get("/app/{app}", to!(appinhouse_pages::page)).doc("SPEC §6", "appinhouse", "Download page of an app").appinhouse().answer(Answer::Html).query(&["time_offset", "touch", "page", "q", "access"]).kept(),
    post("/app/{app}/unlock", to!(appinhouse_pages::unlock)).doc("issue 17", "appinhouse", "Open a protected app's page with its password").appinhouse().answer(Answer::Html).form::<UnlockForm>().audits("app.unlock", "app"),
    get("/app/{app}/{platform}/{version}", to!(appinhouse_pages::build_page)).doc("issue 17", "appinhouse", "Page of one build (its permalink)").appinhouse().answer(Answer::Html).query(&["time_offset", "touch", "access"]).kept(),
    get("/app/{app}/{platform}/{version}/install", to!(appinhouse_pages::install)).doc("issue 17", "appinhouse", "Count an install and redirect to the build's file").appinhouse().answer(Answer::PageRedirect).query(&["access"]),
    get("/console/approvals", to!(console::approvals::approvals_page)).doc("issue 20", "console", "Console: deployment requests on protected environments, filtered by status, paged").query(&["status", "page"]).answer(Answer::ConsolePage),
    get("/console/approvals/{id}", to!(console::approvals::approval_page)).doc("issue 20", "console", "Console: a deployment request with the plan it froze (hosts, artifacts, rendered configs, parameters masked, scripts and their review), approve or reject for an approver who did not ask it").answer(Answer::ConsolePage),
    get("/console/apps", to!(console::apps::apps_page)).doc("issue 18", "console", "Console: hosted apps with their newest build per platform, paged").query(&["page"]).answer(Answer::ConsolePage),
    get("/console/apps/{app}", to!(console::apps::app_page)).doc("issue 18", "console", "Console: an app's builds of one platform, paged, with links to the download pages").query(&["platform", "page"]).answer(Answer::ConsolePage),
    get("/console/audit", to!(console::audit::audit_page)).doc("issue 20", "console", "Console: the audit trail of every service newest first, filtered (actor, action, object, application, environment, time), paged, with a CSV export of the same filter; admins and auditors").roles(AUDIT_READERS).query(&["actor", "action", "object_kind", "object_id", "app_id", "env_id", "since", "until", "page"]).answer(Answer::ConsolePage),
    get("/console/clusters", to!(console::resources::clusters_page)).doc("issue 18", "console", "Console: clusters, filtered by name, paged").query(&["name", "page"]).answer(Answer::ConsolePage),
    get("/console/clusters/{id}", to!(console::resources::cluster_page)).doc("issue 18", "console", "Console: a cluster and its hosts, with an SSH check per host (8.2.7) for operators").answer(Answer::ConsolePage),
    get("/console/dashboard", to!(console::dashboard_page)).doc("issue 18", "console", "Console dashboard: runs in progress, the latest run per application and environment").answer(Answer::ConsolePage),
    get("/console/hosts", to!(console::resources::hosts_page)).doc("issue 18", "console", "Console: hosts, filtered by name, paged, with an SSH check per host (8.2.7) for operators").query(&["name", "page"]).answer(Answer::ConsolePage),
    get("/console/instances", to!(console::instances::list_page)).doc("issue 18", "console", "Console instances: job instances filtered by product line, application, environment, status and name, a page at a time").query(&["product_line", "application", "environment", "status", "name", "page"]).answer(Answer::ConsolePage),
    get("/console/instances/{id}", to!(console::instance::detail_page)).doc("issue 18", "console", "Console instance: its steps and bindings (secrets masked), its run history (`page`), deploy and next step for the roles that may run it").query(&["page"]).answer(Answer::ConsolePage),
    get("/console/jointlines", to!(console::joint_lines::list_page)).doc("issue 18", "console", "Console joint lines: filtered by product line and name, a page at a time").query(&["product_line", "name", "page"]).answer(Answer::ConsolePage),
    get("/console/jointlines/{id}", to!(console::joint_lines::detail_page)).doc("issue 18", "console", "Console joint line: its graph at the saved positions with node statuses (`run`: a joint run to follow), run or continue for the roles that may run it").query(&["run"]).answer(Answer::ConsolePage),
    get("/console/runs/{id}", to!(console::run_page)).doc("issue 18", "console", "Console run page: the run tree live over SSE, host logs, stop/retry/rollback for operators").answer(Answer::ConsolePage),
    get("/console/lang", to!(console::switch_language)).doc("issue 18", "console", "Choose the console's language (`to`: zh-CN or en), kept in the `lang` cookie").public().query(&["to"]).answer(Answer::ConsoleRedirect),
    get("/console/login", to!(console::login_page)).doc("issue 18", "console", "Console login page").public().answer(Answer::Html),
    post("/console/login", to!(console::login)).doc("issue 18", "console", "Console login: the session cookie `tad_session` (HttpOnly, SameSite=Strict), then the dashboard").public().form::<console::LoginForm>().setup(|resource| resource.app_data(console::login_form_limit())).answer(Answer::ConsoleRedirect).audits("session.login", "user"),
    post("/console/logout", to!(console::logout)).doc("issue 18", "console", "Console logout: ends the session (as /api/auth/logout) and clears its cookie; needs the form field csrf").form::<console::CsrfForm>().answer(Answer::ConsoleRedirect).audits("session.logout", "user"),
    get("/console/scripts", to!(console::review::scripts_page)).doc("issue 18", "console", "Console: script versions waiting for review (`state=all`: every version), by application").query(&["application_id", "state"]).answer(Answer::ConsolePage),
    get("/console/scripts/{id}", to!(console::review::script_page)).doc("issue 18", "console", "Console: a script version, each file's diff against the previous version, approve and reject").answer(Answer::ConsolePage),
    get("/console/tokens", to!(console::tokens::tokens_page)).doc("issue 20", "console", "Console: the caller's API tokens (an admin's: everyone's), create one with some of the caller's roles (shown once), revoke with a confirmation").answer(Answer::ConsolePage),
    get("/download/{app}/{platform}/{version}/{file}", to!(appinhouse_files::download)).doc("SPEC §6", "appinhouse", "Download a hosted build or its icon (Range supported)").appinhouse().answer(Answer::AppinhouseFile("application/octet-stream")).query(&["access"]),
    // pages and operations
    get("/favicon.ico", to!(assets::favicon)).doc("", "pages", "The favicon of the pages").public().answer(Answer::File("image/x-icon")),
    get("/healthz", to!(ops::healthz)).doc("", "operations", "The process answers").public().answer(Answer::Status),
    get("/metrics", to!(ops::metrics)).doc("", "operations", "Prometheus metrics").public().answer(Answer::Metrics),
    get("/readyz", to!(ops::readyz)).doc("", "operations", "Every service answers gRPC health").public().answer(Answer::Status),
    get("/static/{file}", to!(assets::static_file)).doc("", "pages", "A style or script file of the pages").public().answer(Answer::StaticFile),
];

/// Registers every route of [`ROUTES`].
pub fn configure(config: &mut actix_web::web::ServiceConfig) {
    register(config, ROUTES, to!(ops::method_not_allowed));
}

/// `GET /api/openapi.json`: the document of [`ROUTES`], serialized once.
async fn document_json() -> Result<actix_web::HttpResponse, crate::error::ApiError> {
    static DOCUMENT_JSON: std::sync::LazyLock<Result<String, String>> =
        std::sync::LazyLock::new(|| openapi::document_text(ROUTES));
    openapi::document_answer(&DOCUMENT_JSON)
}

#[cfg(test)]
mod tests;
