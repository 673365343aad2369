//! Admin routes of SPEC §2 for records the contract cannot create: users, product lines,
//! applications, modules, environments and cluster types. Each kind has a create-or-update
//! `POST`, a list `GET` and a `DELETE /{id}`; the service refuses callers without `admin`.

use actix_web::web;
use common::time::TimeRenderer;
use proto::resource::v1 as pb;
use serde_json::json;

use crate::{
    body::LegacyJson,
    clients::{Caller, Clients, grpc_request},
    convert::catalog::{
        ApplicationBody, CatalogRecord, ClusterTypeBody, ClusterTypeRecord, CreateUserBody,
        EnvBody, LegacyId, ModuleBody, ProductLineBody, UserRecord,
    },
};

use super::{Answer, ok};

/// `/api/admin/*` lists are for admins only (README): the same failure a service answers for
/// other admin actions. The legacy read routes serve what the legacy UI needs.
pub(crate) fn require_admin(caller: &Caller) -> Result<(), crate::error::ApiError> {
    if caller.claims.has_role(common::auth::Role::Admin) {
        Ok(())
    } else {
        Err(crate::error::ApiError::new(
            proto::ErrorReason::Forbidden,
            format!(
                "user {:?} lacks the admin role this needs",
                caller.claims.username()
            ),
        ))
    }
}

pub async fn update_user(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    id: web::Path<String>,
    LegacyJson(body): LegacyJson<crate::convert::catalog::UpdateUserBody>,
) -> Answer {
    let request = pb::UpdateUserRequest {
        id: id.into_inner(),
        password: body.password,
        roles: body.roles.unwrap_or_default(),
    };
    let user = clients
        .resource
        .clone()
        .update_user(grpc_request(request, Some(&caller)))
        .await?
        .into_inner();
    ok(UserRecord::from_proto(user, &times))
}

fn delete_request(caller: &Caller, id: web::Path<String>) -> tonic::Request<pb::DeleteRequest> {
    grpc_request(
        pb::DeleteRequest {
            id: id.into_inner(),
        },
        Some(caller),
    )
}

fn deleted(answer: pb::DeleteResponse) -> Answer {
    ok(json!({ "id": answer.id }))
}

pub async fn create_user(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    LegacyJson(body): LegacyJson<CreateUserBody>,
) -> Answer {
    let request = pb::CreateUserRequest {
        username: body.username,
        password: body.password,
        roles: body.roles,
    };
    let user = clients
        .resource
        .clone()
        .create_user(grpc_request(request, Some(&caller)))
        .await?
        .into_inner();
    ok(UserRecord::from_proto(user, &times))
}

pub async fn list_users(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
) -> Answer {
    let answer = clients
        .resource
        .clone()
        .list_users(grpc_request(pb::ListUsersRequest {}, Some(&caller)))
        .await?
        .into_inner();
    ok(answer
        .users
        .into_iter()
        .map(|user| UserRecord::from_proto(user, &times))
        .collect::<Vec<_>>())
}

pub async fn delete_user(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    deleted(
        clients
            .resource
            .clone()
            .delete_user(delete_request(&caller, id))
            .await?
            .into_inner(),
    )
}

pub async fn upsert_product_line(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    LegacyJson(body): LegacyJson<ProductLineBody>,
) -> Answer {
    let request = pb::UpsertProductLineRequest {
        id: body.id.map(LegacyId::into_string),
        name: body.name,
    };
    let record = clients
        .resource
        .clone()
        .upsert_product_line(grpc_request(request, Some(&caller)))
        .await?
        .into_inner();
    ok(CatalogRecord::from_product_line(record, &times))
}

pub async fn list_product_lines(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
) -> Answer {
    require_admin(&caller)?;
    let answer = clients
        .resource
        .clone()
        .list_product_lines(grpc_request(pb::ListProductLinesRequest {}, Some(&caller)))
        .await?
        .into_inner();
    ok(answer
        .product_lines
        .into_iter()
        .map(|record| CatalogRecord::from_product_line(record, &times))
        .collect::<Vec<_>>())
}

pub async fn delete_product_line(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    deleted(
        clients
            .resource
            .clone()
            .delete_product_line(delete_request(&caller, id))
            .await?
            .into_inner(),
    )
}

pub async fn upsert_application(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    LegacyJson(body): LegacyJson<ApplicationBody>,
) -> Answer {
    let request = pb::UpsertApplicationRequest {
        id: body.id.map(LegacyId::into_string),
        name: body.name,
        product_line_id: body.product_line_id.into_string(),
    };
    let record = clients
        .resource
        .clone()
        .upsert_application(grpc_request(request, Some(&caller)))
        .await?
        .into_inner();
    ok(CatalogRecord::from_application(record, &times))
}

pub async fn list_applications(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
) -> Answer {
    require_admin(&caller)?;
    let answer = clients
        .resource
        .clone()
        .list_applications(grpc_request(
            pb::ListApplicationsRequest {
                product_line_id: None,
            },
            Some(&caller),
        ))
        .await?
        .into_inner();
    ok(answer
        .applications
        .into_iter()
        .map(|record| CatalogRecord::from_application(record, &times))
        .collect::<Vec<_>>())
}

pub async fn delete_application(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    deleted(
        clients
            .resource
            .clone()
            .delete_application(delete_request(&caller, id))
            .await?
            .into_inner(),
    )
}

pub async fn upsert_module(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    LegacyJson(body): LegacyJson<ModuleBody>,
) -> Answer {
    let request = pb::UpsertModuleRequest {
        id: body.id.map(LegacyId::into_string),
        name: body.name,
        application_id: body.application_id.into_string(),
    };
    let record = clients
        .resource
        .clone()
        .upsert_module(grpc_request(request, Some(&caller)))
        .await?
        .into_inner();
    ok(CatalogRecord::from_module(record, &times))
}

pub async fn list_modules(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
) -> Answer {
    require_admin(&caller)?;
    let answer = clients
        .resource
        .clone()
        .list_modules(grpc_request(
            pb::ListModulesRequest {
                application_id: None,
            },
            Some(&caller),
        ))
        .await?
        .into_inner();
    ok(answer
        .modules
        .into_iter()
        .map(|record| CatalogRecord::from_module(record, &times))
        .collect::<Vec<_>>())
}

pub async fn delete_module(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    deleted(
        clients
            .resource
            .clone()
            .delete_module(delete_request(&caller, id))
            .await?
            .into_inner(),
    )
}

pub async fn upsert_env(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
    LegacyJson(body): LegacyJson<EnvBody>,
) -> Answer {
    let request = pb::UpsertEnvRequest {
        id: body.id.map(LegacyId::into_string),
        name: body.name,
        remark: body.remark,
    };
    let record = clients
        .resource
        .clone()
        .upsert_env(grpc_request(request, Some(&caller)))
        .await?
        .into_inner();
    ok(CatalogRecord::from_env(record, &times))
}

pub async fn list_envs(
    caller: Caller,
    clients: web::Data<Clients>,
    times: web::Data<TimeRenderer>,
) -> Answer {
    require_admin(&caller)?;
    let answer = clients
        .resource
        .clone()
        .list_envs(grpc_request(pb::ListEnvsRequest {}, Some(&caller)))
        .await?
        .into_inner();
    ok(answer
        .envs
        .into_iter()
        .map(|record| CatalogRecord::from_env(record, &times))
        .collect::<Vec<_>>())
}

pub async fn delete_env(
    caller: Caller,
    clients: web::Data<Clients>,
    id: web::Path<String>,
) -> Answer {
    deleted(
        clients
            .resource
            .clone()
            .delete_env(delete_request(&caller, id))
            .await?
            .into_inner(),
    )
}

pub async fn upsert_cluster_type(
    caller: Caller,
    clients: web::Data<Clients>,
    LegacyJson(body): LegacyJson<ClusterTypeBody>,
) -> Answer {
    let request = pb::UpsertClusterTypeRequest {
        key: body.key,
        value: body.value,
    };
    let record = clients
        .resource
        .clone()
        .upsert_cluster_type(grpc_request(request, Some(&caller)))
        .await?
        .into_inner();
    ok(ClusterTypeRecord::from(record))
}

pub async fn list_cluster_types(caller: Caller, clients: web::Data<Clients>) -> Answer {
    require_admin(&caller)?;
    let answer = clients
        .resource
        .clone()
        .list_cluster_types(grpc_request(pb::ListClusterTypesRequest {}, Some(&caller)))
        .await?
        .into_inner();
    ok(answer
        .cluster_types
        .into_iter()
        .map(ClusterTypeRecord::from)
        .collect::<Vec<_>>())
}

pub async fn delete_cluster_type(
    caller: Caller,
    clients: web::Data<Clients>,
    key: web::Path<String>,
) -> Answer {
    deleted(
        clients
            .resource
            .clone()
            .delete_cluster_type(delete_request(&caller, key))
            .await?
            .into_inner(),
    )
}
