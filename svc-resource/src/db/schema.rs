//! Diesel table definitions of svc-resource (portable types: TEXT ids, UTC TIMESTAMP).

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        password_hash -> Text,
        roles -> Text,
        creator -> Text,
        create_time -> Timestamp,
    }
}

diesel::table! {
    product_lines (id) {
        id -> Text,
        name -> Text,
        creator -> Text,
        create_time -> Timestamp,
        mender -> Text,
        update_time -> Timestamp,
    }
}

diesel::table! {
    applications (id) {
        id -> Text,
        name -> Text,
        product_line_id -> Text,
        creator -> Text,
        create_time -> Timestamp,
        mender -> Text,
        update_time -> Timestamp,
    }
}

diesel::table! {
    modules (id) {
        id -> Text,
        name -> Text,
        application_id -> Text,
        creator -> Text,
        create_time -> Timestamp,
        mender -> Text,
        update_time -> Timestamp,
    }
}

diesel::table! {
    envs (id) {
        id -> Text,
        name -> Text,
        remark -> Text,
        creator -> Text,
        create_time -> Timestamp,
        mender -> Text,
        update_time -> Timestamp,
    }
}

diesel::table! {
    cluster_types (type_key) {
        type_key -> Text,
        type_value -> Text,
        create_time -> Timestamp,
    }
}

diesel::table! {
    clusters (id) {
        id -> Text,
        name -> Text,
        remark -> Text,
        cluster_type -> Text,
        env_id -> Text,
        app_id -> Text,
        source -> Text,
        creator -> Text,
        create_time -> Timestamp,
        mender -> Text,
        update_time -> Timestamp,
    }
}

diesel::table! {
    hosts (id) {
        id -> Text,
        host_ip -> Text,
        host_name -> Text,
        remark -> Text,
        ssh_port -> Integer,
        ssh_user -> Text,
        ssh_password_sealed -> Nullable<Text>,
        ssh_private_key_sealed -> Nullable<Text>,
        host_key_fingerprint -> Nullable<Text>,
        product_line_id -> Text,
        env_id -> Text,
        source -> Text,
        creator -> Text,
        create_time -> Timestamp,
        mender -> Text,
        update_time -> Timestamp,
    }
}

diesel::table! {
    cluster_hosts (cluster_id, host_id) {
        cluster_id -> Text,
        host_id -> Text,
        create_time -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        username -> Text,
        expires_at -> Timestamp,
        create_time -> Timestamp,
    }
}

diesel::table! {
    cluster_deletions (cluster_id) {
        cluster_id -> Text,
        until -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        username -> Text,
        name -> Text,
        token_hash -> Text,
        roles -> Text,
        expires_at -> Timestamp,
        create_time -> Timestamp,
        last_used -> Nullable<Timestamp>,
    }
}

diesel::table! {
    env_governance (env_id) {
        env_id -> Text,
        protected -> Bool,
        deploy_windows -> Text,
        window_timezone -> Text,
        frozen_until -> Nullable<Timestamp>,
        outside_window -> Text,
        mender -> Text,
        update_time -> Timestamp,
    }
}

diesel::joinable!(cluster_hosts -> clusters (cluster_id));
diesel::joinable!(cluster_hosts -> hosts (host_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    product_lines,
    applications,
    modules,
    envs,
    cluster_types,
    clusters,
    hosts,
    cluster_hosts,
    sessions,
    cluster_deletions,
    api_tokens,
    env_governance,
);
