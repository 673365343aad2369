//! The console's instance list (issue 18): job instances as 1.3 (`jobi_list_one`) answers them
//! for the caller, filtered by product line (1.1), application (1.2, of the chosen product line),
//! environment (5.1) and status, a page at a time. Every filter value is capped
//! ([`super::listing::PageQuery`]); a filter naming nothing known shows nothing.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use proto::{jobs::v1 as jobs_pb, resource::v1 as resource_pb};
use serde::Serialize;

use super::{
    dashboard::status_class,
    i18n::{Catalogue, Lang},
    listing::{Choice, PageQuery, Paging, status_text},
    signed_in_frame,
    view::{Frame, render},
};
use crate::{
    clients::{Call, reply},
    error::ApiError,
    legacy::appinhouse_pages::html,
};

/// Instances a page of the list shows.
const PAGE_SIZE: usize = 25;
/// Where the list is.
pub const INSTANCES_PATH: &str = "/console/instances";
/// The statuses an instance can have (SPEC §4), in the order the filter offers them.
pub const INSTANCE_STATUSES: &[&str] = &[
    "init",
    "ready",
    "generate",
    "running",
    "success",
    "failed",
    "stopped",
    "interrupted",
    "rolled_back",
];

/// The instance pages' messages (list and detail).
pub const MESSAGES: Catalogue = &[
    ("nav_instances", "Instances", "实例"),
    ("instances_title", "Instances", "部署实例"),
    ("product_line", "Product line", "产品线"),
    ("any", "All", "全部"),
    ("filter", "Filter", "筛选"),
    ("clear_filters", "Clear", "清除"),
    (
        "choose_product_line_first",
        "Choose a product line to filter by application.",
        "先选择产品线，才能按应用筛选。",
    ),
    ("name", "Name", "名称"),
    ("template", "Template", "模板"),
    ("updated", "Updated", "更新时间"),
    (
        "no_instances",
        "No instance matches.",
        "没有符合条件的实例。",
    ),
    ("page_of", "Page", "页"),
    ("of_pages", "of", "共"),
    ("items", "items", "条"),
    ("previous", "Previous", "上一页"),
    ("next", "Next", "下一页"),
    ("instance_status_init", "init", "初始化"),
    ("instance_status_ready", "ready", "就绪"),
    ("instance_status_generate", "work order saved", "已生成工单"),
];

/// One instance of the list.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceRow {
    pub id: String,
    pub name: String,
    pub product_line: String,
    pub application: String,
    pub environment: String,
    pub template: String,
    pub status: String,
    pub status_class: String,
    pub status_text: String,
    pub updated: String,
}

/// The filters as chosen (echoed in the form and kept by the page links).
#[derive(Debug, Default, Clone, Serialize)]
pub struct Filters {
    pub product_line: String,
    pub application: String,
    pub environment: String,
    pub status: String,
    pub name: String,
}

impl Filters {
    fn of(query: &PageQuery) -> Filters {
        Filters {
            product_line: query.text("product_line"),
            application: query.text("application"),
            environment: query.text("environment"),
            status: query.text("status"),
            name: query.text("name"),
        }
    }

    fn pairs(&self) -> [(&'static str, &str); 5] {
        [
            ("product_line", &self.product_line),
            ("application", &self.application),
            ("environment", &self.environment),
            ("status", &self.status),
            ("name", &self.name),
        ]
    }

    /// Whether an instance passes the filters the service does not apply (environment, status).
    fn keeps(&self, instance: &jobs_pb::Instance) -> bool {
        (self.environment.is_empty() || instance.env_id == self.environment)
            && (self.status.is_empty() || instance.status == self.status)
    }
}

/// The list page's values.
#[derive(Debug, Serialize)]
pub struct InstancesPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub filters: Filters,
    pub product_lines: Vec<Choice>,
    pub applications: Vec<Choice>,
    pub environments: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub instances: Vec<InstanceRow>,
    pub paging: Paging,
}

/// The product lines (1.1), as filter options.
pub async fn product_line_choices(call: &Call, chosen: &str) -> Result<Vec<Choice>, ApiError> {
    let request = resource_pb::ListProductLinesRequest {};
    let lines = reply(call.resource().list_product_lines(request)).await?;
    Ok(Choice::list(
        lines
            .product_lines
            .into_iter()
            .map(|line| (line.id, line.name)),
        chosen,
    ))
}

/// The filters' options: product lines (1.1), the chosen product line's applications (1.2),
/// environments (5.1) and statuses.
async fn choices(call: &Call, lang: Lang, filters: &Filters) -> Result<[Vec<Choice>; 4], ApiError> {
    let product_lines = product_line_choices(call, &filters.product_line).await?;
    let applications = if filters.product_line.is_empty() {
        Vec::new()
    } else {
        let request = resource_pb::ListApplicationsRequest {
            product_line_id: Some(filters.product_line.clone()),
        };
        let answer = reply(call.resource().list_applications(request)).await?;
        Choice::list(
            answer
                .applications
                .into_iter()
                .map(|app| (app.id, app.name)),
            &filters.application,
        )
    };
    let envs = reply(call.resource().list_envs(resource_pb::ListEnvsRequest {})).await?;
    let environments = Choice::list(
        envs.envs.into_iter().map(|env| (env.id, env.name)),
        &filters.environment,
    );
    let messages = lang.messages();
    let statuses = Choice::list(
        INSTANCE_STATUSES
            .iter()
            .map(|status| ((*status).to_owned(), status_text(&messages, status))),
        &filters.status,
    );
    Ok([product_lines, applications, environments, statuses])
}

/// The row of an instance.
pub fn instance_row(call: &Call, lang: Lang, instance: jobs_pb::Instance) -> InstanceRow {
    let messages = lang.messages();
    InstanceRow {
        status_class: status_class(&instance.status).to_owned(),
        status_text: status_text(&messages, &instance.status),
        updated: call.times.render_unix_ms(instance.update_time_ms),
        id: instance.id,
        name: instance.name,
        product_line: instance.product_line_name,
        application: instance.application_name,
        environment: instance.env_name,
        template: instance.job_template_name,
        status: instance.status,
    }
}

/// `GET /console/instances?product_line=&application=&environment=&status=&name=&page=`.
pub async fn list_page(
    request: HttpRequest,
    call: Call,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let query = PageQuery::new(query.into_inner())?;
    let page = query.page()?;
    let filters = Filters::of(&query);
    let lang = Lang::of_request(&request);
    let some = |text: &str| (!text.is_empty()).then(|| text.to_owned());
    let list = jobs_pb::ListInstancesRequest {
        product_line_id: some(&filters.product_line),
        // An application outside the chosen product line matches nothing (1.3 applies both).
        application_id: some(&filters.application),
        name: some(&filters.name),
    };
    let mut instances: Vec<jobs_pb::Instance> = reply(call.jobs().list_instances(list))
        .await?
        .instances
        .into_iter()
        .filter(|instance| filters.keeps(instance))
        .collect();
    instances.sort_by(|a, b| {
        b.update_time_ms
            .cmp(&a.update_time_ms)
            .then_with(|| a.name.cmp(&b.name))
    });
    let paging = Paging::new(
        INSTANCES_PATH,
        &filters.pairs(),
        page,
        PAGE_SIZE,
        instances.len(),
    );
    let rows = paging
        .slice(instances, PAGE_SIZE)
        .into_iter()
        .map(|instance| instance_row(&call, lang, instance))
        .collect();
    let [product_lines, applications, environments, statuses] =
        choices(&call, lang, &filters).await?;
    let page = InstancesPage {
        frame: signed_in_frame(&request, &call.caller, "instances")?,
        filters,
        product_lines,
        applications,
        environments,
        statuses,
        instances: rows,
        paging,
    };
    Ok(html(StatusCode::OK, render("instances.html", &page)?))
}
