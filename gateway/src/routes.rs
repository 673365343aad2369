//! THE route table: one entry per URL, sorted by path. Every path also answers with a trailing
//! slash (see `NormalizePath` in lib.rs); a known path with another method answers 405 in the
//! failure envelope, an unknown path 404. Every route is documented in `openapi.rs` (`ROUTES`);
//! its tests fail when the two disagree.

use actix_web::{
    Resource,
    web::{self, delete, get, post},
};

use crate::{
    assets,
    legacy::{admin, appinhouse, artifact, auth, catalog, executions, jobs, ops, resource as res},
    openapi,
};

fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(ops::method_not_allowed))
}

/// Registers every route.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        // SPEC §2 admin routes
        .service(
            resource("/api/admin/applications")
                .route(get().to(admin::list_applications))
                .route(post().to(admin::upsert_application)),
        )
        .service(
            resource("/api/admin/applications/{id}").route(delete().to(admin::delete_application)),
        )
        .service(
            resource("/api/admin/clusters")
                .route(get().to(res::admin_list_clusters))
                .route(post().to(res::admin_upsert_cluster)),
        )
        .service(resource("/api/admin/clusters/{id}").route(delete().to(res::admin_delete_cluster)))
        .service(
            resource("/api/admin/cluster-types")
                .route(get().to(admin::list_cluster_types))
                .route(post().to(admin::upsert_cluster_type)),
        )
        .service(
            resource("/api/admin/cluster-types/{key}")
                .route(delete().to(admin::delete_cluster_type)),
        )
        .service(
            resource("/api/admin/envs")
                .route(get().to(admin::list_envs))
                .route(post().to(admin::upsert_env)),
        )
        .service(resource("/api/admin/envs/{id}").route(delete().to(admin::delete_env)))
        .service(
            resource("/api/admin/hosts")
                .route(get().to(res::admin_list_hosts))
                .route(post().to(res::admin_upsert_host)),
        )
        .service(resource("/api/admin/hosts/{id}").route(delete().to(res::admin_delete_host)))
        .service(
            resource("/api/admin/modules")
                .route(get().to(admin::list_modules))
                .route(post().to(admin::upsert_module)),
        )
        .service(resource("/api/admin/modules/{id}").route(delete().to(admin::delete_module)))
        .service(
            resource("/api/admin/productlines")
                .route(get().to(admin::list_product_lines))
                .route(post().to(admin::upsert_product_line)),
        )
        .service(
            resource("/api/admin/productlines/{id}").route(delete().to(admin::delete_product_line)),
        )
        .service(
            resource("/api/admin/users")
                .route(get().to(admin::list_users))
                .route(post().to(admin::create_user)),
        )
        .service(
            resource("/api/admin/users/{id}")
                .route(delete().to(admin::delete_user))
                .route(post().to(admin::update_user)),
        )
        // SPEC §5 webhooks
        .service(
            resource("/api/admin/webhooks")
                .route(get().to(executions::list_webhooks))
                .route(post().to(executions::add_webhook)),
        )
        .service(
            resource("/api/admin/webhooks/{id}").route(delete().to(executions::delete_webhook)),
        )
        // 1.2 / 3.2
        .service(
            resource("/api/app/applications/{id}/select_by_pl")
                .route(get().to(catalog::applications_of_product_line)),
        )
        // 5.5
        .service(resource("/api/app/jobinstance/aos_json").route(get().to(jobs::query_instances)))
        // 5.2
        .service(resource("/api/app/jobinstance/create").route(post().to(jobs::create_instance)))
        // 1.3 / 7.1
        .service(
            resource("/api/app/jobinstance/jobi_list_one").route(get().to(jobs::list_instances)),
        )
        // 7.3
        .service(
            resource("/api/app/jobinstance/online/process/save")
                .route(post().to(jobs::save_work_order)),
        )
        // 5.8.2.5
        .service(
            resource("/api/app/jobinstance/{cpm_id}/config/desc")
                .route(get().to(jobs::method_params_schema)),
        )
        // 5.9
        .service(resource("/api/app/jobinstance/{id}").route(delete().to(jobs::delete_instance)))
        // 5.7
        .service(resource("/api/app/jobinstance/{id}/copy").route(post().to(jobs::copy_instance)))
        // 5.10 / 7.2
        .service(
            resource("/api/app/jobinstance/{id}/details").route(get().to(jobs::instance_details)),
        )
        // 6.1
        .service(
            resource("/api/app/jobinstance/{id}/executionall")
                .route(post().to(executions::execute_all)),
        )
        // SPEC §5 history of an instance's runs
        .service(
            resource("/api/app/jobinstance/{id}/executions")
                .route(get().to(executions::execution_history)),
        )
        // work order export
        .service(
            resource("/api/app/jobinstance/{id}/online/process/export")
                .route(get().to(jobs::export_work_order)),
        )
        // SPEC §5 rollback
        .service(
            resource("/api/app/jobinstance/{id}/rollback").route(post().to(executions::rollback)),
        )
        // 6.2 (the legacy spelling is the URL)
        .service(
            resource("/api/app/jobinstance/{id}/setp_execution")
                .route(post().to(executions::execute_step)),
        )
        // 6.3
        .service(
            resource("/api/app/jobinstance/{id}/stop_execution")
                .route(post().to(executions::stop_execution)),
        )
        // 5.8.1
        .service(
            resource("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/alldata/read")
                .route(post().to(jobs::step_all_data)),
        )
        // 5.8.2.2
        .service(
            resource("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/artifact/json")
                .route(get().to(jobs::step_artifacts)),
        )
        // 5.8.2.3
        .service(
            resource("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/actemplate/config/desc")
                .route(get().to(jobs::step_config_schema)),
        )
        // 5.8.2.4
        .service(
            resource(
                "/api/app/jobinstance/{id}/{cpm_id}/{sequence}/actemplate/{file_id}/config/value",
            )
            .route(get().to(jobs::step_config_values)),
        )
        // 5.6.2.4
        .service(
            resource("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/config/update")
                .route(post().to(jobs::save_step_params)),
        )
        // 5.8.2.6
        .service(
            resource("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/config/value")
                .route(get().to(jobs::step_params)),
        )
        // 5.6.1
        .service(
            resource("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/relation/alldata")
                .route(post().to(jobs::save_step_all)),
        )
        // 5.6.2.2
        .service(
            resource("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/relation/artifact")
                .route(post().to(jobs::save_step_artifacts)),
        )
        // 5.6.2.3
        .service(
            resource("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/relation/actemplate")
                .route(post().to(jobs::save_step_configs)),
        )
        // 5.6.2.5
        .service(
            resource("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/relation/script")
                .route(post().to(jobs::save_step_scripts)),
        )
        // 5.8.2.7
        .service(
            resource("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/script/json")
                .route(get().to(jobs::step_scripts)),
        )
        // 5.6.2.1
        .service(
            resource("/api/app/jobinstance/{id}/{cpm_id}/{sequence}/{cluster_id}/relation/cluster")
                .route(post().to(jobs::save_step_cluster)),
        )
        // 4.1
        .service(resource("/api/app/jobtemplate/aos_json").route(get().to(jobs::query_templates)))
        // template create (beyond the contract)
        .service(resource("/api/app/jobtemplate/create").route(post().to(jobs::create_template)))
        // 5.3
        .service(
            resource("/api/app/jobtemplate/ordinary/select").route(get().to(jobs::template_select)),
        )
        // 4.5 (DELETE, and POST as the contract's "[PSOT]")
        .service(
            resource("/api/app/jobtemplate/{id}")
                .route(delete().to(jobs::delete_template))
                .route(post().to(jobs::delete_template)),
        )
        // 4.2
        .service(
            resource("/api/app/jobtemplate/{id}/graded")
                .route(post().to(jobs::replace_template_methods)),
        )
        // 4.3
        .service(
            resource("/api/app/jobtemplate/{id}/graded_content")
                .route(get().to(jobs::template_methods)),
        )
        // 1.6
        .service(resource("/api/app/jointline/aos_json").route(get().to(jobs::query_joint_lines)))
        // 1.7
        .service(resource("/api/app/jointline/create").route(post().to(jobs::create_joint_line)))
        // 1.5
        .service(
            resource("/api/app/jointline/get_structure/{id}")
                .route(get().to(jobs::joint_line_structure)),
        )
        // 1.4
        .service(resource("/api/app/jointline/save").route(post().to(jobs::save_joint_line)))
        // 2.1
        .service(
            resource("/api/app/jointline/{id}/execution")
                .route(post().to(executions::execute_joint_line)),
        )
        // 1.1 / 3.1
        .service(
            resource("/api/app/productline/select").route(get().to(catalog::product_line_select)),
        )
        // 5.11.1 app-config upload
        .service(
            resource("/api/artifact/configure/aos_upload")
                .route(post().to(artifact::configure_upload)),
        )
        // SPEC §3 versions of an app-config template with their .j2 file ids
        .service(
            resource("/api/artifact/configure/{id}/versions")
                .route(get().to(artifact::template_versions)),
        )
        // SPEC §3 download of a stored file
        .service(resource("/api/artifact/files/{id}/download").route(get().to(artifact::download)))
        // 5.11.1 artifact filter
        .service(
            resource("/api/artifact/filter/name/aos").route(get().to(artifact::artifact_filter)),
        )
        // 5.11.1 script upload
        .service(
            resource("/api/artifact/script/aos_upload").route(post().to(artifact::script_upload)),
        )
        // 9 package sync
        .service(resource("/api/artifact/version/aos").route(post().to(artifact::package_sync)))
        // SPEC §1 login
        .service(
            resource("/api/auth/login")
                .app_data(auth::login_body_limit())
                .route(post().to(auth::login)),
        )
        // SPEC §8 logout
        .service(resource("/api/auth/logout").route(post().to(auth::logout)))
        // 4.4
        .service(resource("/api/component/select").route(get().to(artifact::component_select)))
        // SPEC §3 method packages
        .service(resource("/api/component/upload").route(post().to(artifact::component_upload)))
        // the Swagger UI of the OpenAPI document
        .service(resource("/api/docs").route(get().to(openapi::docs_page)))
        .service(resource("/api/docs/{file}").route(get().to(openapi::docs_file)))
        // SPEC §5 run tree, log chunks, events
        .service(resource("/api/executions/{id}").route(get().to(executions::execution)))
        .service(
            resource("/api/executions/{id}/events").route(get().to(executions::execution_events)),
        )
        .service(resource("/api/executions/{id}/log").route(get().to(executions::execution_log)))
        .service(
            resource("/api/executions/{id}/retry").route(post().to(executions::retry_execution)),
        )
        // 5.8.1 at the contract's literal URL
        .service(
            resource("/api/jobinstance/{id}/{cpm_id}/{sequence}/出")
                .route(post().to(jobs::step_all_data)),
        )
        // the OpenAPI document of this table (openapi.rs mirrors it)
        .service(resource("/api/openapi.json").route(get().to(openapi::document_json)))
        // 8.1.9
        .service(
            resource("/api/resource/clusters/aos_deletes/{id}")
                .route(delete().to(res::delete_cluster)),
        )
        // 8.1.4
        .service(
            resource("/api/resource/clusters/aos_create").route(post().to(res::create_cluster)),
        )
        // 8.1.3
        .service(resource("/api/resource/clusters/aos_json").route(get().to(res::query_clusters)))
        // 8.1.1
        .service(resource("/api/resource/clusters/cmdb_type").route(get().to(res::cluster_types)))
        // 8.2.2
        .service(
            resource("/api/resource/clusters/list_4_select").route(get().to(res::cluster_select)),
        )
        // 8.1.7
        .service(resource("/api/resource/clusters/{id}/aos_bind").route(post().to(res::bind_hosts)))
        // 8.1.6
        .service(resource("/api/resource/clusters/{id}/hosts").route(get().to(res::cluster_hosts)))
        // 8.1.5
        .service(
            resource("/api/resource/clusters/{id}/hosts/select/pl")
                .route(get().to(res::cluster_host_candidates)),
        )
        // 8.1.8
        .service(resource("/api/resource/clusters/{id}/unbind").route(post().to(res::unbind_hosts)))
        // 8.1.10
        .service(
            resource("/api/resource/clusters/{id}/update").route(post().to(res::update_cluster)),
        )
        // 5.4 / 5.8.2.1
        .service(
            resource("/api/resource/clusters/{id}/{app_id}/select/envapp")
                .route(get().to(res::cluster_of_app)),
        )
        // 5.1 / 8.1.2 / 8.2.1
        .service(resource("/api/resource/envs/select").route(get().to(catalog::env_select)))
        // 8.2.5
        .service(
            resource("/api/resource/hosts/aos_deletes/{id}").route(delete().to(res::delete_host)),
        )
        // 8.2.3
        .service(resource("/api/resource/hosts/aos_create").route(post().to(res::create_host)))
        // 8.2.4
        .service(resource("/api/resource/hosts/aos_json").route(get().to(res::query_hosts)))
        // 8.2.7
        .service(
            resource("/api/resource/hosts/validate/{ssh_ip}/{ssh_user}/ssh")
                .route(get().to(res::validate_host)),
        )
        // 8.2.6
        .service(resource("/api/resource/hosts/{id}/update").route(post().to(res::update_host)))
        // 5.11.1 script list
        .service(resource("/api/script/index/aos_list").route(get().to(artifact::script_list)))
        // 5.11.4
        .service(
            resource("/api/script/index/detail_data/filedata/{id}")
                .route(get().to(artifact::file_text)),
        )
        // 5.11.3
        .service(resource("/api/script/index/examine/{id}").route(post().to(artifact::review)))
        // 5.11.2
        .service(resource("/api/script/index/urole_script").route(get().to(artifact::may_review)))
        // appinhouse contract (SPEC §6); `apps` and `move` are reserved app names
        .service(resource("/api/v2/apps").route(get().to(appinhouse::list_apps)))
        .service(
            resource("/api/v2/move/{app}/{sort_operation}").route(post().to(appinhouse::move_app)),
        )
        .service(
            resource("/api/v2/{app}/archive/{platform}").route(post().to(appinhouse::upload_build)),
        )
        .service(resource("/api/v2/{app}/create").route(post().to(appinhouse::create_app)))
        .service(resource("/api/v2/{app}/delete").route(delete().to(appinhouse::delete_app)))
        .service(
            resource("/api/v2/{app}/delete/{platform}")
                .route(delete().to(appinhouse::delete_old_builds)),
        )
        .service(resource("/api/v2/{app}/desc/{platform}").route(post().to(appinhouse::save_build)))
        .service(
            resource("/api/v2/{app}/extenddesc/{platform}")
                .route(post().to(appinhouse::save_extend)),
        )
        .service(resource("/api/v2/{app}/last").route(get().to(appinhouse::last_builds)))
        .service(resource("/api/v2/{app}/list/{platform}").route(get().to(appinhouse::list_builds)))
        .service(resource("/api/v2/{app}/mobile/last").route(get().to(appinhouse::mobile_last)))
        .service(resource("/api/v2/{app}/mobile/list").route(get().to(appinhouse::mobile_list)))
        .service(resource("/api/v2/{app}/plist/{version}.plist").route(get().to(appinhouse::plist)))
        .service(resource("/api/v2/{app}/update").route(post().to(appinhouse::update_app)))
        // appinhouse download page and hosted files
        .service(resource("/app/{app}").route(get().to(appinhouse::page)))
        .service(
            resource("/download/{app}/{platform}/{version}/{file}")
                .route(get().to(appinhouse::download)),
        )
        // favicon of every page
        .service(resource("/favicon.ico").route(get().to(assets::favicon)))
        // operations
        .service(resource("/healthz").route(get().to(ops::healthz)))
        .service(resource("/metrics").route(get().to(ops::metrics)))
        .service(resource("/readyz").route(get().to(ops::readyz)))
        // the pages' style and script files
        .service(resource("/static/{file}").route(get().to(assets::static_file)));
}
