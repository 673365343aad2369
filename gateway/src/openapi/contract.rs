//! Documented shapes (schemas only, never decoded) of the request values the handlers take
//! loosely: JSON values kept as `serde_json::Value` (step parameters, app-config values, work
//! order forms), the appinhouse forms (read as a field map), the multipart uploads, and role
//! names. Each follows the contract (tad-api.md 5.6 and 7.3, appinhouse-api.md); the owning
//! service still checks every value.

use std::collections::BTreeMap;

use serde::Deserialize;
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        RefOr, Schema, SchemaFormat,
        schema::{ObjectBuilder, Type},
    },
};

/// A role name (`common::auth::Role`).
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum RoleName {
    Admin,
    Operator,
    Reviewer,
    Viewer,
    Auditor,
    Approver,
}

/// One value of a step's parameters or of an app-config group (5.6.2.3, 5.6.2.4): a text, or
/// a list of objects of texts (a repeated group of the schema).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ParamValue {
    Text(String),
    Groups(Vec<BTreeMap<String, String>>),
}

/// Values by schema key (5.6.2.3 `configs`, 5.6.2.4 `config_value`).
#[derive(Debug, ToSchema)]
pub struct ParamValues(pub BTreeMap<String, ParamValue>);

/// The fields of a work order form (7.3 `excel_data`): texts by field name.
#[derive(Debug, ToSchema)]
pub struct WorkOrderForm(pub BTreeMap<String, String>);

/// Form of `POST /api/v2/{app}/create` and `/update`.
#[derive(Debug, ToSchema)]
pub struct AppForm {
    #[schema(max_length = 4096)]
    pub description: String,
    #[schema(max_length = 128)]
    pub alias: Option<String>,
}

/// Form of `DELETE /api/v2/{app}/delete/{platform}` (also taken as a query parameter).
#[derive(Debug, ToSchema)]
pub struct ResidueForm {
    /// How many of the newest builds stay.
    pub residue: Option<String>,
}

/// Form of `POST /api/v2/{app}/desc/{platform}`: the build's description (the `plist_*`
/// fields are needed for ios).
#[derive(Debug, ToSchema)]
pub struct BuildForm {
    #[schema(max_length = 128)]
    pub version: String,
    /// The build time, e.g. `2016-05-10T02:11:50Z`.
    #[schema(max_length = 64)]
    pub time: String,
    #[schema(max_length = 2048)]
    pub url: String,
    #[schema(max_length = 2048)]
    pub software_url: String,
    #[schema(max_length = 4096)]
    pub description: Option<String>,
    #[schema(max_length = 128)]
    pub plist_bundle_identifier: Option<String>,
    #[schema(max_length = 128)]
    pub plist_title: Option<String>,
    #[schema(max_length = 2048)]
    pub plist_full_size_image: Option<String>,
    #[schema(max_length = 2048)]
    pub plist_display_image: Option<String>,
}

/// Form of `POST /api/v2/{app}/extenddesc/{platform}`: an extra download of a build.
#[derive(Debug, ToSchema)]
pub struct ExtendForm {
    #[schema(max_length = 128)]
    pub version: String,
    #[schema(max_length = 2048)]
    pub software_url: String,
    #[schema(max_length = 128)]
    pub extend_name: String,
    /// ASCII (the name's English or pinyin).
    #[schema(max_length = 64)]
    pub extend_key: String,
}

/// Form of `POST /api/v2/{app}/protect`: the page password (8 to 128 characters), empty to lift
/// the protection.
#[derive(Debug, ToSchema)]
pub struct ProtectForm {
    #[schema(max_length = 128)]
    pub password: Option<String>,
}

/// Form of `POST /api/v2/{app}/share`: how long the link works, in hours (1 to 720, default 24).
#[derive(Debug, ToSchema)]
pub struct ShareForm {
    #[schema(max_length = 12)]
    pub hours: Option<String>,
}

/// Form of `POST /app/{app}/unlock`: the page password and the CSRF token of the form.
#[derive(Debug, ToSchema)]
pub struct UnlockForm {
    #[schema(max_length = 128)]
    pub password: String,
    #[schema(max_length = 64)]
    pub csrf: String,
}

/// A multipart upload: file parts (any field name; `file` is the documented one) and text
/// fields (named by each route's contract).
#[derive(Debug)]
pub struct Upload;

impl PartialSchema for Upload {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "File parts (any field name; `file` is the documented one) and text fields",
            ))
            .property(
                "file",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::Custom("binary".to_owned()))),
            )
            .additional_properties(Some(ObjectBuilder::new().schema_type(Type::String)))
            .into()
    }
}

impl ToSchema for Upload {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("MultipartBody")
    }
}
