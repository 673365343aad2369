//! THE route table: one entry per URL, sorted by path. Every path also answers with a trailing
//! slash (see `NormalizePath` in lib.rs); a known path with another method answers 405 in the
//! failure envelope, an unknown path 404.

use actix_web::{
    Resource,
    web::{self, delete, get, post},
};

use crate::legacy::{admin, artifact, auth, catalog, ops};

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
        .service(resource("/api/admin/users/{id}").route(delete().to(admin::delete_user)))
        // 1.2 / 3.2
        .service(
            resource("/api/app/applications/{id}/select_by_pl")
                .route(get().to(catalog::applications_of_product_line)),
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
        .service(resource("/api/auth/login").route(post().to(auth::login)))
        // 4.4
        .service(resource("/api/component/select").route(get().to(artifact::component_select)))
        // SPEC §3 method packages
        .service(resource("/api/component/upload").route(post().to(artifact::component_upload)))
        // 5.1 / 8.1.2 / 8.2.1
        .service(resource("/api/resource/envs/select").route(get().to(catalog::env_select)))
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
        // operations
        .service(resource("/healthz").route(get().to(ops::healthz)))
        .service(resource("/metrics").route(get().to(ops::metrics)))
        .service(resource("/readyz").route(get().to(ops::readyz)));
}
