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

diesel::table! {
    runs (id) {
        id -> Text,
        instance_id -> Text,
        application_id -> Text,
        env_id -> Text,
        kind -> Text,
        status -> Text,
        use_tad_host -> Bool,
        started_by -> Text,
        owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        stop_requested -> Bool,
        message -> Nullable<Text>,
        create_time -> Timestamp,
        start_time -> Nullable<Timestamp>,
        end_time -> Nullable<Timestamp>,
        event_seq -> BigInt,
    }
}

diesel::table! {
    run_steps (run_id, sequence) {
        run_id -> Text,
        sequence -> Integer,
        component_id -> Text,
        method_id -> Text,
        cluster_id -> Text,
        snapshot -> Text,
        status -> Text,
        message -> Nullable<Text>,
        start_time -> Nullable<Timestamp>,
        end_time -> Nullable<Timestamp>,
    }
}

diesel::table! {
    host_tasks (id) {
        id -> Text,
        run_id -> Text,
        sequence -> Integer,
        host_ip -> Text,
        status -> Text,
        exit_code -> Nullable<Integer>,
        message -> Nullable<Text>,
        log_size -> BigInt,
        start_time -> Nullable<Timestamp>,
        end_time -> Nullable<Timestamp>,
        attempt -> Integer,
        artifacts_sent -> Integer,
        artifacts_skipped -> Integer,
    }
}

diesel::table! {
    run_events (run_id, seq) {
        run_id -> Text,
        seq -> BigInt,
        kind -> Text,
        host_task_id -> Nullable<Text>,
        log_offset -> Nullable<BigInt>,
        payload -> Text,
        create_time -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        url -> Text,
        creator -> Text,
        create_time -> Timestamp,
    }
}

diesel::table! {
    joint_runs (id) {
        id -> Text,
        joint_line_id -> Text,
        status -> Text,
        use_tad_host -> Bool,
        started_by -> Text,
        owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        message -> Nullable<Text>,
        create_time -> Timestamp,
        start_time -> Nullable<Timestamp>,
        end_time -> Nullable<Timestamp>,
    }
}

diesel::table! {
    joint_run_nodes (joint_run_id, sequence) {
        joint_run_id -> Text,
        sequence -> BigInt,
        instance_id -> Text,
        parents -> Text,
        run_id -> Nullable<Text>,
        status -> Text,
        message -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (caller, route, idempotency_key) {
        caller -> Text,
        route -> Text,
        idempotency_key -> Text,
        fingerprint -> Text,
        execution_id -> Text,
        create_time -> Timestamp,
    }
}

diesel::table! {
    deployment_requests (id) {
        id -> Text,
        kind -> Text,
        target_id -> Text,
        use_tad_host -> Bool,
        application_id -> Nullable<Text>,
        env_id -> Text,
        plans -> Text,
        status -> Text,
        requested_by -> Text,
        create_time -> Timestamp,
        expires_at -> Timestamp,
        decided_by -> Nullable<Text>,
        comment -> Nullable<Text>,
        reason -> Nullable<Text>,
        not_before -> Nullable<Timestamp>,
        execution_id -> Nullable<Text>,
    }
}

diesel::table! {
    run_plans (plan_id) {
        plan_id -> Text,
        instance_id -> Text,
        plans -> Text,
        create_time -> Timestamp,
    }
}

diesel::table! {
    schedules (id) {
        id -> Text,
        target_kind -> Text,
        target_id -> Text,
        cron -> Text,
        timezone -> Text,
        use_tad_host -> Bool,
        enabled -> Bool,
        creator -> Text,
        create_time -> Timestamp,
        next_fire -> Nullable<Timestamp>,
        last_fire -> Nullable<Timestamp>,
        last_execution_id -> Nullable<Text>,
        last_message -> Nullable<Text>,
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
    runs,
    run_steps,
    host_tasks,
    run_events,
    webhooks,
    joint_runs,
    joint_run_nodes,
    idempotency_keys,
    deployment_requests,
    run_plans,
    schedules,
);
