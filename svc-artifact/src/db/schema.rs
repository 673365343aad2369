//! Diesel table definitions of svc-artifact (portable types: TEXT ids, UTC TIMESTAMP, JSON as TEXT).

diesel::table! {
    stored_files (id) {
        id -> Text,
        name -> Text,
        path -> Text,
        size -> BigInt,
        md5 -> Text,
        sha256 -> Text,
        object_key -> Text,
        version_id -> Text,
        role -> Text,
        creator -> Text,
        create_time -> Timestamp,
    }
}

diesel::table! {
    artifacts (id) {
        id -> Text,
        app_id -> Text,
        name -> Text,
        kind -> Text,
        creator -> Text,
        create_time -> Timestamp,
    }
}

diesel::table! {
    artifact_versions (id) {
        id -> Text,
        artifact_id -> Text,
        version -> Text,
        creator -> Text,
        create_time -> Timestamp,
    }
}

diesel::table! {
    config_templates (file_id) {
        file_id -> Text,
        version_id -> Text,
        subject_id -> Text,
        name -> Text,
        yml_file_id -> Text,
        schema_json -> Text,
    }
}

diesel::table! {
    script_versions (id) {
        id -> Text,
        app_id -> Text,
        name -> Text,
        uploader -> Text,
        status -> Text,
        reviewer -> Text,
        create_time -> Timestamp,
        review_time -> Nullable<Timestamp>,
    }
}

diesel::table! {
    components (id) {
        id -> Text,
        name -> Text,
        remark -> Text,
    }
}

diesel::table! {
    methods (id) {
        id -> Text,
        component_id -> Text,
        name -> Text,
        remark -> Text,
        builtin -> Bool,
    }
}

diesel::table! {
    method_versions (id) {
        id -> Text,
        method_id -> Text,
        file_id -> Text,
        entrypoint -> Text,
        timeout_s -> Integer,
        params_json -> Text,
        creator -> Text,
        create_time -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    stored_files,
    artifacts,
    artifact_versions,
    config_templates,
    script_versions,
    components,
    methods,
    method_versions,
);
