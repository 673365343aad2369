//! Diesel table definitions of svc-appinhouse (portable types: TEXT keys, UTC TIMESTAMP).

diesel::table! {
    apps (name) {
        name -> Text,
        description -> Text,
        alias -> Text,
        position -> BigInt,
        create_time -> Timestamp,
        update_time -> Timestamp,
    }
}

diesel::table! {
    builds (app, platform, version) {
        app -> Text,
        platform -> Text,
        version -> Text,
        build_time -> Timestamp,
        given_offset_minutes -> Integer,
        description -> Text,
        url -> Text,
        software_url -> Text,
        bundle_identifier -> Text,
        title -> Text,
        full_size_image -> Text,
        display_image -> Text,
        plist -> Text,
        hosted_key -> Text,
        create_time -> Timestamp,
        update_time -> Timestamp,
    }
}

diesel::table! {
    build_extends (app, platform, version, extend_key) {
        app -> Text,
        platform -> Text,
        version -> Text,
        extend_key -> Text,
        extend_name -> Text,
        software_url -> Text,
        plist -> Text,
        create_time -> Timestamp,
    }
}

diesel::table! {
    build_details (app, platform, version) {
        app -> Text,
        platform -> Text,
        version -> Text,
        size_bytes -> BigInt,
        version_code -> Text,
        min_os -> Text,
        label -> Text,
        icon_key -> Text,
        installs -> BigInt,
    }
}

diesel::table! {
    app_access (app) {
        app -> Text,
        password_hash -> Text,
        epoch -> Text,
        failed_attempts -> BigInt,
        attempts_since -> Timestamp,
        update_time -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    apps,
    builds,
    build_extends,
    build_details,
    app_access
);
