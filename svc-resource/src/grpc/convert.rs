//! The resource records as proto messages, and the proto fields the rules take, one `From` each.

use common::time::to_unix_ms;
use proto::resource::v1 as pb;

use crate::service::{
    WriteChannel,
    clusters::{ClusterFields, ClusterView},
    governance::{EnvGovernance, GovernanceFields},
    hosts::{HostConnection, HostFields, HostView},
    lookups::{NameLookup, Names},
    records::{
        ApplicationRow, ClusterTypeRow, EnvRow, HostRow, ModuleRow, ProductLineRow, UserRow,
    },
    tokens::TokenView,
};

/// The channel a write came through; anything but the admin console counts as AOS.
pub(super) fn channel_of(value: i32) -> WriteChannel {
    match pb::WriteChannel::try_from(value) {
        Ok(pb::WriteChannel::Admin) => WriteChannel::Admin,
        _ => WriteChannel::Aos,
    }
}

impl From<TokenView> for pb::ApiToken {
    fn from(view: TokenView) -> pb::ApiToken {
        let TokenView { row, roles } = view;
        pb::ApiToken {
            id: row.id,
            name: row.name,
            username: row.username,
            roles,
            expires_at_ms: to_unix_ms(row.expires_at),
            create_time_ms: to_unix_ms(row.create_time),
            last_used_ms: row.last_used.map(to_unix_ms),
        }
    }
}

impl From<EnvGovernance> for pb::EnvGovernance {
    fn from(governance: EnvGovernance) -> pb::EnvGovernance {
        let EnvGovernance {
            env_name,
            windows,
            row,
        } = governance;
        pb::EnvGovernance {
            deploy_windows: windows,
            env_id: row.env_id,
            env_name,
            protected: row.protected,
            window_timezone: row.window_timezone,
            frozen_until_ms: row.frozen_until.map(to_unix_ms),
            outside_window: row.outside_window,
            mender: row.mender,
            update_time_ms: to_unix_ms(row.update_time),
        }
    }
}

impl From<pb::SetEnvGovernanceRequest> for GovernanceFields {
    fn from(request: pb::SetEnvGovernanceRequest) -> GovernanceFields {
        GovernanceFields {
            protected: request.protected,
            deploy_windows: request.deploy_windows,
            window_timezone: request.window_timezone,
            frozen_until: request.frozen_until,
            outside_window: request.outside_window,
        }
    }
}

common::proto_from! {
    UserRow as row => pb::User {
        id, username, creator;
        roles: row.role_names(),
        create_time_ms: to_unix_ms(row.create_time),
    }
    ProductLineRow as row => pb::ProductLine [times] { id, name, creator, mender }
    ApplicationRow as row => pb::Application [times] { id, name, product_line_id, creator, mender }
    ModuleRow as row => pb::Module [times] { id, name, application_id, creator, mender }
    EnvRow as row => pb::Env [times] { id, name, remark, creator, mender }
    ClusterTypeRow as row => pb::ClusterType {
        ; key: row.type_key, value: row.type_value,
    }
    HostRow as row => pb::Host [times] {
        id, host_ip, host_name, remark, ssh_port, ssh_user, product_line_id, env_id, source,
        creator, mender;
        has_password: row.ssh_password_sealed.is_some(),
        has_private_key: row.ssh_private_key_sealed.is_some(),
        host_key_pinned: row.host_key_fingerprint.is_some(),
        product_line_name: String::new(),
        env_name: String::new(),
        clusters: Vec::new(),
        apps: Vec::new(),
    }
    HostConnection as connection => pb::HostConnection {
        password, private_key;
        host_key_fingerprint: connection.row.host_key_fingerprint.clone(),
        host: Some(connection.row.into()),
    }
    pb::ClusterFields as fields => ClusterFields {
        name, remark, env_id, app_id;
        cluster_type: fields.r#type,
    }
    pb::HostFields as fields => HostFields {
        host_ip, host_name, remark, ssh_user, ssh_port, ssh_password, ssh_private_key,
        product_line_id, env_id,
    }
}

/// The ids a `LookupNames` request asks to name (the lookup types are common's, so no `From`).
pub(super) fn name_lookup(body: pb::LookupNamesRequest) -> NameLookup {
    NameLookup {
        env_ids: body.env_ids,
        application_ids: body.application_ids,
        product_line_ids: body.product_line_ids,
        module_ids: body.module_ids,
    }
}

/// The names found, as the `LookupNames` answer.
pub(super) fn names_response(names: Names) -> pb::LookupNamesResponse {
    pb::LookupNamesResponse {
        envs: names.envs,
        applications: names.applications,
        product_lines: names.product_lines,
        modules: names.modules,
        application_product_lines: names.application_product_lines,
    }
}

impl From<HostView> for pb::Host {
    fn from(view: HostView) -> pb::Host {
        let clusters = view.clusters.into_iter();
        pb::Host {
            product_line_name: view.product_line_name,
            env_name: view.env_name,
            clusters: clusters
                .map(|(id, name)| pb::ClusterName { id, name })
                .collect(),
            apps: view.apps,
            ..view.row.into()
        }
    }
}

impl From<ClusterView> for pb::Cluster {
    fn from(view: ClusterView) -> pb::Cluster {
        let row = view.row;
        pb::Cluster {
            id: row.id,
            name: row.name,
            remark: row.remark,
            r#type: row.cluster_type,
            env_id: row.env_id,
            env_name: view.env_name,
            app_id: row.app_id,
            app_name: view.app_name,
            source: row.source,
            creator: row.creator,
            create_time_ms: to_unix_ms(row.create_time),
            mender: row.mender,
            update_time_ms: to_unix_ms(row.update_time),
            deleting: view.deleting,
        }
    }
}
