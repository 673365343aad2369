//! Diesel table definitions of svc-jobs (portable types: TEXT ids, UTC TIMESTAMP, JSON as TEXT).

diesel::table! {
    job_templates (id) {
        id -> Text,
        name -> Text,
        remark -> Text,
        template_type -> Text,
        status -> Text,
        deploy_type -> Text,
        application_id -> Text,
        rollback_template_id -> Nullable<Text>,
        creator -> Text,
        create_time -> Timestamp,
        mender -> Nullable<Text>,
        update_time -> Timestamp,
    }
}

diesel::table! {
    job_template_methods (template_id, sequence) {
        template_id -> Text,
        sequence -> Integer,
        component_id -> Text,
        method_id -> Text,
    }
}

diesel::table! {
    job_instances (id) {
        id -> Text,
        name -> Text,
        remark -> Text,
        status -> Text,
        env_id -> Text,
        application_id -> Text,
        product_line_id -> Text,
        module_id -> Nullable<Text>,
        job_template_id -> Text,
        creator -> Text,
        create_time -> Timestamp,
        mender -> Nullable<Text>,
        update_time -> Timestamp,
    }
}

diesel::table! {
    instance_steps (instance_id, sequence) {
        instance_id -> Text,
        sequence -> Integer,
        component_id -> Text,
        method_id -> Text,
        cluster_id -> Nullable<Text>,
        bindings -> Text,
    }
}

diesel::table! {
    joint_lines (id) {
        id -> Text,
        name -> Text,
        remark -> Text,
        product_line_id -> Text,
        creator -> Text,
        create_time -> Timestamp,
        mender -> Nullable<Text>,
        update_time -> Timestamp,
    }
}

diesel::table! {
    joint_line_nodes (joint_line_id, sequence) {
        joint_line_id -> Text,
        sequence -> BigInt,
        instance_id -> Text,
        parents -> Text,
        canvas_top -> Double,
        canvas_left -> Double,
    }
}

diesel::table! {
    work_orders (instance_id) {
        instance_id -> Text,
        doc_id -> Text,
        excel_data -> Text,
        process_status -> Text,
        creator -> Text,
        create_time -> Timestamp,
        mender -> Text,
        update_time -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    work_orders,
    job_templates,
    job_template_methods,
    job_instances,
    instance_steps,
    joint_lines,
    joint_line_nodes,
);
