-- svc-jobs work orders (contract 7): one form per instance, kept as JSON, until pushed to an ITSM.
CREATE TABLE work_orders (
    instance_id TEXT PRIMARY KEY NOT NULL REFERENCES job_instances (id),
    doc_id TEXT NOT NULL UNIQUE,
    excel_data TEXT NOT NULL,
    process_status TEXT NOT NULL,
    creator TEXT NOT NULL,
    create_time TIMESTAMP NOT NULL,
    mender TEXT NOT NULL,
    update_time TIMESTAMP NOT NULL
);
