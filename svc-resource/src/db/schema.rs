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

diesel::allow_tables_to_appear_in_same_query!(
    users,
    product_lines,
    applications,
    modules,
    envs,
    cluster_types
);
