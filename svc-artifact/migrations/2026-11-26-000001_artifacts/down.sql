DROP TABLE method_versions;
DROP TABLE methods;
DROP TABLE components;
DROP TABLE script_versions;
DROP TABLE config_templates;
DROP TABLE artifact_versions;
DROP TABLE artifacts;
DROP TABLE stored_files;
