//! Admin routes of SPEC §2 for records the contract cannot create: users, product lines,
//! applications, modules, environments and cluster types. Each kind has a create-or-update
//! `POST`, a list `GET` and a `DELETE /{id}`; the service refuses callers without `admin`.

use actix_web::web;
use proto::resource::v1 as pb;

use crate::{
    body::LegacyJson,
    clients::{Call, Caller, reply},
    convert::catalog::{
        ApplicationBody, CatalogRecord, ClusterTypeBody, ClusterTypeRecord, CreateUserBody,
        EnvBody, EnvGovernanceRecord, GovernanceBody, LegacyId, ModuleBody, ProductLineBody,
        RecordId, UserRecord,
    },
};

use super::{Answer, IdPath, ok, ok_each};

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
    call: Call,
    id: IdPath,
    LegacyJson(body): LegacyJson<crate::convert::catalog::UpdateUserBody>,
) -> Answer {
    let request = pb::UpdateUserRequest {
        id: id.into_inner(),
        password: body.password,
        roles: body.roles.unwrap_or_default(),
    };
    let user = reply(call.resource().update_user(request)).await?;
    ok(UserRecord::from_proto(user, &call.times))
}

fn delete_request(id: IdPath) -> pb::DeleteRequest {
    pb::DeleteRequest {
        id: id.into_inner(),
    }
}

fn deleted(answer: pb::DeleteResponse) -> Answer {
    ok(RecordId { id: answer.id })
}

pub async fn create_user(call: Call, LegacyJson(body): LegacyJson<CreateUserBody>) -> Answer {
    let request = pb::CreateUserRequest {
        username: body.username,
        password: body.password,
        roles: body.roles,
    };
    let user = reply(call.resource().create_user(request)).await?;
    ok(UserRecord::from_proto(user, &call.times))
}

pub async fn list_users(call: Call) -> Answer {
    let request = pb::ListUsersRequest {};
    let answer = reply(call.resource().list_users(request)).await?;
    ok_each(answer.users, |user| {
        UserRecord::from_proto(user, &call.times)
    })
}

pub async fn delete_user(call: Call, id: IdPath) -> Answer {
    deleted(reply(call.resource().delete_user(delete_request(id))).await?)
}

pub async fn upsert_product_line(
    call: Call,
    LegacyJson(body): LegacyJson<ProductLineBody>,
) -> Answer {
    let request = pb::UpsertProductLineRequest {
        id: body.id.map(LegacyId::into_string),
        name: body.name,
    };
    let record = reply(call.resource().upsert_product_line(request)).await?;
    ok(CatalogRecord::from_product_line(record, &call.times))
}

pub async fn list_product_lines(call: Call) -> Answer {
    require_admin(&call.caller)?;
    let request = pb::ListProductLinesRequest {};
    let answer = reply(call.resource().list_product_lines(request)).await?;
    ok_each(answer.product_lines, |record| {
        CatalogRecord::from_product_line(record, &call.times)
    })
}

pub async fn delete_product_line(call: Call, id: IdPath) -> Answer {
    let request = delete_request(id);
    deleted(reply(call.resource().delete_product_line(request)).await?)
}

pub async fn upsert_application(
    call: Call,
    LegacyJson(body): LegacyJson<ApplicationBody>,
) -> Answer {
    let request = pb::UpsertApplicationRequest {
        id: body.id.map(LegacyId::into_string),
        name: body.name,
        product_line_id: body.product_line_id.into_string(),
    };
    let record = reply(call.resource().upsert_application(request)).await?;
    ok(CatalogRecord::from_application(record, &call.times))
}

pub async fn list_applications(call: Call) -> Answer {
    require_admin(&call.caller)?;
    let request = pb::ListApplicationsRequest {
        product_line_id: None,
    };
    let answer = reply(call.resource().list_applications(request)).await?;
    ok_each(answer.applications, |record| {
        CatalogRecord::from_application(record, &call.times)
    })
}

pub async fn delete_application(call: Call, id: IdPath) -> Answer {
    let request = delete_request(id);
    deleted(reply(call.resource().delete_application(request)).await?)
}

pub async fn upsert_module(call: Call, LegacyJson(body): LegacyJson<ModuleBody>) -> Answer {
    let request = pb::UpsertModuleRequest {
        id: body.id.map(LegacyId::into_string),
        name: body.name,
        application_id: body.application_id.into_string(),
    };
    let record = reply(call.resource().upsert_module(request)).await?;
    ok(CatalogRecord::from_module(record, &call.times))
}

pub async fn list_modules(call: Call) -> Answer {
    require_admin(&call.caller)?;
    let request = pb::ListModulesRequest {
        application_id: None,
    };
    let answer = reply(call.resource().list_modules(request)).await?;
    ok_each(answer.modules, |record| {
        CatalogRecord::from_module(record, &call.times)
    })
}

pub async fn delete_module(call: Call, id: IdPath) -> Answer {
    deleted(reply(call.resource().delete_module(delete_request(id))).await?)
}

pub async fn upsert_env(call: Call, LegacyJson(body): LegacyJson<EnvBody>) -> Answer {
    let request = pb::UpsertEnvRequest {
        id: body.id.map(LegacyId::into_string),
        name: body.name,
        remark: body.remark,
    };
    let record = reply(call.resource().upsert_env(request)).await?;
    ok(CatalogRecord::from_env(record, &call.times))
}

pub async fn list_envs(call: Call) -> Answer {
    require_admin(&call.caller)?;
    let answer = reply(call.resource().list_envs(pb::ListEnvsRequest {})).await?;
    ok_each(answer.envs, |record| {
        CatalogRecord::from_env(record, &call.times)
    })
}

pub async fn delete_env(call: Call, id: IdPath) -> Answer {
    deleted(reply(call.resource().delete_env(delete_request(id))).await?)
}

/// Saves the governance of an environment (issue 20; the service refuses non-admins).
pub async fn set_env_governance(
    call: Call,
    id: IdPath,
    LegacyJson(body): LegacyJson<GovernanceBody>,
) -> Answer {
    let request = pb::SetEnvGovernanceRequest {
        env_id: id.into_inner(),
        protected: body.protected,
        deploy_windows: body.deploy_windows,
        window_timezone: body.window_timezone,
        frozen_until: body.frozen_until,
        outside_window: body.outside_window,
    };
    let record = reply(call.resource().set_env_governance(request)).await?;
    ok(EnvGovernanceRecord::from_proto(record, &call.times))
}

/// The governance of an environment, for any reader.
pub async fn env_governance(call: Call, id: IdPath) -> Answer {
    let request = pb::GetEnvGovernanceRequest {
        env_id: id.into_inner(),
    };
    let record = reply(call.resource().get_env_governance(request)).await?;
    ok(EnvGovernanceRecord::from_proto(record, &call.times))
}

pub async fn upsert_cluster_type(
    call: Call,
    LegacyJson(body): LegacyJson<ClusterTypeBody>,
) -> Answer {
    let request = pb::UpsertClusterTypeRequest {
        key: body.key,
        value: body.value,
    };
    let record = reply(call.resource().upsert_cluster_type(request)).await?;
    ok(ClusterTypeRecord::from(record))
}

pub async fn list_cluster_types(call: Call) -> Answer {
    require_admin(&call.caller)?;
    let request = pb::ListClusterTypesRequest {};
    let answer = reply(call.resource().list_cluster_types(request)).await?;
    ok_each(answer.cluster_types, ClusterTypeRecord::from)
}

pub async fn delete_cluster_type(call: Call, key: web::Path<String>) -> Answer {
    let request = delete_request(key);
    deleted(reply(call.resource().delete_cluster_type(request)).await?)
}
