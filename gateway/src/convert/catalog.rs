//! Catalog records (users, product lines, applications, modules, environments, cluster types)
//! as the legacy JSON shows them (contract 1.1, 1.2, 8.1.2) and as the admin routes answer them.

use common::time::TimeRenderer;
use proto::resource::v1 as pb;
use serde::{Deserialize, Serialize};

/// `{id, name}` of the select lists (1.1, 1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct IdName {
    pub id: String,
    pub name: String,
}

/// `IdName` of each record with an `id` and a `name`, one record type a line.
macro_rules! id_name_from {
    ($($record:ty),+ $(,)?) => {$(
        impl From<$record> for IdName {
            fn from(record: $record) -> IdName {
                IdName {
                    id: record.id,
                    name: record.name,
                }
            }
        }
    )+};
}

id_name_from!(
    pb::ProductLine,
    pb::Application,
    proto::artifact::v1::ScriptVersion,
    proto::artifact::v1::Artifact,
);

/// An environment as 8.1.2 lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EnvItem {
    pub remark: String,
    pub creator: String,
    pub create_time: String,
    pub id: String,
    pub name: String,
}

impl EnvItem {
    pub fn from_proto(record: pb::Env, times: &TimeRenderer) -> EnvItem {
        EnvItem {
            remark: record.remark,
            creator: record.creator,
            create_time: times.render_unix_ms(record.create_time_ms),
            id: record.id,
            name: record.name,
        }
    }
}

/// A catalog record as the admin routes answer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CatalogRecord {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_line_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    pub creator: String,
    pub create_time: String,
    pub mender: String,
    pub update_time: String,
}

/// `CatalogRecord::base` of a proto product line, application, module or env (each has these
/// fields under these names).
macro_rules! catalog_base {
    ($record:ident, $times:expr) => {
        CatalogRecord::base(
            $record.id,
            $record.name,
            $record.creator,
            $record.create_time_ms,
            $record.mender,
            $record.update_time_ms,
            $times,
        )
    };
}

impl CatalogRecord {
    fn base(
        id: String,
        name: String,
        creator: String,
        create_time_ms: i64,
        mender: String,
        update_time_ms: i64,
        times: &TimeRenderer,
    ) -> CatalogRecord {
        CatalogRecord {
            id,
            name,
            product_line_id: None,
            application_id: None,
            remark: None,
            creator,
            create_time: times.render_unix_ms(create_time_ms),
            mender,
            update_time: times.render_unix_ms(update_time_ms),
        }
    }

    pub fn from_product_line(record: pb::ProductLine, times: &TimeRenderer) -> CatalogRecord {
        catalog_base!(record, times)
    }

    pub fn from_application(record: pb::Application, times: &TimeRenderer) -> CatalogRecord {
        CatalogRecord {
            product_line_id: Some(record.product_line_id),
            ..catalog_base!(record, times)
        }
    }

    pub fn from_module(record: pb::Module, times: &TimeRenderer) -> CatalogRecord {
        CatalogRecord {
            application_id: Some(record.application_id),
            ..catalog_base!(record, times)
        }
    }

    pub fn from_env(record: pb::Env, times: &TimeRenderer) -> CatalogRecord {
        CatalogRecord {
            remark: Some(record.remark),
            ..catalog_base!(record, times)
        }
    }
}

/// `{id}` of what was created, saved or deleted (admin deletes, 5.2, 1.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RecordId {
    pub id: String,
}

/// `data: null` of a success that has nothing to say (5.9, webhook deletes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Nothing;

impl utoipa::PartialSchema for Nothing {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Null)
            .into()
    }
}

impl utoipa::ToSchema for Nothing {}

/// SPEC §8 logout: whose session ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LoggedOut {
    pub username: String,
}

/// A user as the admin routes answer it (never a password or hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UserRecord {
    pub id: String,
    pub username: String,
    pub roles: Vec<String>,
    pub creator: String,
    pub create_time: String,
}

impl UserRecord {
    pub fn from_proto(record: pb::User, times: &TimeRenderer) -> UserRecord {
        UserRecord {
            id: record.id,
            username: record.username,
            roles: record.roles,
            creator: record.creator,
            create_time: times.render_unix_ms(record.create_time_ms),
        }
    }
}

/// A cluster type as 8.1.1 shows it, with `id` (= key) as every admin answer has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ClusterTypeRecord {
    pub id: String,
    pub key: String,
    pub value: String,
}

impl From<pb::ClusterType> for ClusterTypeRecord {
    fn from(record: pb::ClusterType) -> ClusterTypeRecord {
        ClusterTypeRecord {
            id: record.key.clone(),
            key: record.key,
            value: record.value,
        }
    }
}

/// An id as the legacy UI and CMDB send it: a string, or a number (kept as its decimal text).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum LegacyId {
    Text(String),
    Number(i64),
}

impl LegacyId {
    pub fn into_string(self) -> String {
        match self {
            LegacyId::Text(text) => text,
            LegacyId::Number(number) => number.to_string(),
        }
    }
}

/// Body of `POST /api/admin/users`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateUserBody {
    #[schema(max_length = 128)]
    pub username: String,
    #[schema(max_length = 1024)]
    pub password: String,
    #[schema(inline, value_type = Vec<crate::openapi::contract::RoleName>)]
    pub roles: Vec<String>,
}

/// Body of `PUT /api/admin/users/{id}`: new roles and/or a new password (ends the user's sessions).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UpdateUserBody {
    #[schema(max_length = 1024)]
    pub password: Option<String>,
    #[schema(inline, value_type = Option<Vec<crate::openapi::contract::RoleName>>)]
    pub roles: Option<Vec<String>>,
}

/// Body of `POST /api/admin/productlines`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ProductLineBody {
    #[serde(default)]
    pub id: Option<LegacyId>,
    #[schema(max_length = 128)]
    pub name: String,
}

/// Body of `POST /api/admin/applications`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ApplicationBody {
    #[serde(default)]
    pub id: Option<LegacyId>,
    #[schema(max_length = 128)]
    pub name: String,
    pub product_line_id: LegacyId,
}

/// Body of `POST /api/admin/modules`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ModuleBody {
    #[serde(default)]
    pub id: Option<LegacyId>,
    #[schema(max_length = 128)]
    pub name: String,
    pub application_id: LegacyId,
}

/// Body of `POST /api/admin/envs`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EnvBody {
    #[serde(default)]
    pub id: Option<LegacyId>,
    #[schema(max_length = 128)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 4096)]
    pub remark: String,
}

/// Body of `POST /api/admin/envs/{id}/governance` (issue 20): the whole governance of the
/// environment; a field left out takes its default (not protected, no window: any time, UTC, no
/// freeze, `wait`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GovernanceBody {
    /// Runs (6.1, 6.2, 2.1, retry, rollback) need an approval.
    #[serde(default)]
    pub protected: bool,
    /// Five-field cron texts (`minute hour day-of-month month day-of-week`); none: any time.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub deploy_windows: Vec<String>,
    /// The IANA zone the windows read (default `UTC`).
    #[serde(default)]
    #[schema(max_length = 100)]
    pub window_timezone: String,
    /// RFC 3339 with its offset: no run starts before then.
    #[serde(default)]
    pub frozen_until: Option<String>,
    /// `wait` (default): an approval outside the windows starts when the next opens;
    /// `refuse`: it is refused.
    #[serde(default)]
    pub outside_window: String,
}

/// An environment's governance as answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EnvGovernanceRecord {
    pub env_id: String,
    pub env_name: String,
    pub protected: bool,
    pub deploy_windows: Vec<String>,
    pub window_timezone: String,
    /// RFC 3339, UTC; null: no freeze.
    pub frozen_until: Option<String>,
    pub outside_window: String,
    pub mender: String,
    pub update_time: String,
}

impl EnvGovernanceRecord {
    pub fn from_proto(record: pb::EnvGovernance, times: &TimeRenderer) -> EnvGovernanceRecord {
        EnvGovernanceRecord {
            env_id: record.env_id,
            env_name: record.env_name,
            protected: record.protected,
            deploy_windows: record.deploy_windows,
            window_timezone: record.window_timezone,
            frozen_until: record
                .frozen_until_ms
                .and_then(common::time::from_unix_ms)
                .map(|until| {
                    until
                        .and_utc()
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                }),
            outside_window: record.outside_window,
            mender: record.mender,
            update_time: times.render_unix_ms(record.update_time_ms),
        }
    }
}

/// Body of `POST /api/admin/cluster-types`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ClusterTypeBody {
    #[schema(max_length = 128)]
    pub key: String,
    #[schema(max_length = 128)]
    pub value: String,
}

/// Body of `POST /api/auth/login`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginBody {
    #[schema(max_length = 128)]
    pub username: String,
    #[schema(max_length = 1024)]
    pub password: String,
}

/// `data` of a successful login.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginData {
    pub token: String,
    pub expires_at: String,
    pub username: String,
    pub roles: Vec<String>,
}

/// `data` of `GET /api/auth/me`: the presented token's user and roles.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Identity {
    pub username: String,
    pub roles: Vec<String>,
}

impl LoginData {
    pub fn from_proto(answer: pb::LoginResponse, times: &TimeRenderer) -> LoginData {
        LoginData {
            token: answer.token,
            expires_at: times.render_unix_ms(answer.expires_at_ms),
            username: answer.username,
            roles: answer.roles,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::convert::shanghai;

    #[test]
    fn envs_have_the_8_1_2_keys() {
        let env = pb::Env {
            id: "b2fa4164776a11e79ae8005056b361cd".into(),
            name: "预投产环境".into(),
            remark: "".into(),
            creator: "admin".into(),
            create_time_ms: 1_501_639_781_000,
            mender: "admin".into(),
            update_time_ms: 1_501_639_781_000,
        };
        let value = serde_json::to_value(EnvItem::from_proto(env, &shanghai())).expect("serialize");
        assert_eq!(
            value,
            json!({"remark": "", "creator": "admin", "create_time": "2017-08-02 10:09:41",
                   "id": "b2fa4164776a11e79ae8005056b361cd", "name": "预投产环境"})
        );
    }

    #[test]
    fn select_items_are_id_and_name() {
        let item = IdName::from(pb::ProductLine {
            id: "5000".into(),
            name: "OPENSRVC,USASTRAN".into(),
            ..Default::default()
        });
        assert_eq!(
            serde_json::to_value(item).expect("serialize"),
            json!({"id": "5000", "name": "OPENSRVC,USASTRAN"})
        );
    }

    #[test]
    fn ids_may_be_numbers_or_strings() {
        let body: ApplicationBody =
            serde_json::from_value(json!({"name": "a", "product_line_id": 750})).expect("number");
        assert_eq!(body.product_line_id.into_string(), "750");
        let body: ApplicationBody =
            serde_json::from_value(json!({"id": "x1", "name": "a", "product_line_id": "750"}))
                .expect("string");
        assert_eq!(body.id.map(LegacyId::into_string), Some("x1".to_owned()));
    }

    #[test]
    fn users_never_show_secrets() {
        let user = pb::User {
            id: "u".into(),
            username: "olga".into(),
            roles: vec!["operator".into()],
            creator: "admin".into(),
            create_time_ms: 0,
        };
        let value =
            serde_json::to_value(UserRecord::from_proto(user, &shanghai())).expect("serialize");
        assert_eq!(
            value,
            json!({"id": "u", "username": "olga", "roles": ["operator"], "creator": "admin", "create_time": ""})
        );
    }
}
