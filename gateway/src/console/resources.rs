//! The console's resources (8.1, 8.2): clusters and hosts, paged and filtered by name, a
//! cluster's bound hosts, and an SSH check button per host that calls 8.2.7
//! (`/api/resource/hosts/validate/{ip}/{user}/ssh`) like any client. The button is shown only to
//! an operator or admin (the roles 8.2.7 allows); the resource service refuses the others anyway.
//! Hosts show whether a password or key is stored, never the secret.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use common::auth::Role;
use proto::resource::v1 as pb;
use serde::Serialize;

use super::{
    listing::PageQuery,
    path_segment,
    review::capped,
    signed_in_frame,
    view::{Frame, render},
};
use crate::{
    clients::{Call, reply},
    error::ApiError,
    legacy::appinhouse_pages::html,
};

/// Rows per page.
const PAGE_SIZE: u32 = 20;
/// Highest page number read from a URL.
const MAX_PAGE: u32 = 100_000;

/// The page number of a list's query (1 when absent; refused, naming `page`, when not 1 or more).
fn page_of(query: &PageQuery) -> Result<u32, ApiError> {
    let page = query.page()?;
    Ok(u32::try_from(page).unwrap_or(MAX_PAGE).min(MAX_PAGE))
}

/// A cluster row.
#[derive(Debug, Serialize)]
struct ClusterView {
    id: String,
    name: String,
    kind: String,
    environment: String,
    application: String,
    source: String,
    remark: String,
}

/// A host row, with the SSH check URL for callers who may use it.
#[derive(Debug, Serialize)]
struct HostView {
    id: String,
    ip: String,
    name: String,
    ssh_user: String,
    ssh_port: i32,
    environment: String,
    product_line: String,
    /// `password`, `key` or empty: what is stored, never the secret.
    credential: &'static str,
    host_key_pinned: bool,
    clusters: Vec<String>,
    validate_url: Option<String>,
}

/// Previous and next page numbers, when there are such pages.
#[derive(Debug, Serialize)]
struct Pager {
    page: u32,
    pages: u32,
    previous: Option<u32>,
    next: Option<u32>,
}

impl Pager {
    fn new(page: u32, count: i64) -> Pager {
        let pages = u32::try_from(count.max(0))
            .unwrap_or(u32::MAX)
            .div_ceil(PAGE_SIZE)
            .max(1);
        Pager {
            page,
            pages,
            previous: (page > 1).then(|| page - 1),
            next: (page < pages).then(|| page + 1),
        }
    }
}

#[derive(Debug, Serialize)]
struct ClustersPage {
    #[serde(flatten)]
    frame: Frame,
    clusters: Vec<ClusterView>,
    count: i64,
    name: String,
    /// `name` encoded for the pager's links.
    name_query: String,
    pager: Pager,
}

#[derive(Debug, Serialize)]
struct HostsPage {
    #[serde(flatten)]
    frame: Frame,
    hosts: Vec<HostView>,
    /// The cluster whose hosts these are (none: the host list).
    cluster: Option<ClusterView>,
    count: i64,
    name: String,
    /// `name` encoded for the pager's links.
    name_query: String,
    pager: Option<Pager>,
    may_validate: bool,
}

fn cluster_view(cluster: pb::Cluster) -> ClusterView {
    ClusterView {
        id: cluster.id,
        name: cluster.name,
        kind: cluster.r#type,
        environment: cluster.env_name,
        application: cluster.app_name,
        source: cluster.source,
        remark: cluster.remark,
    }
}

/// 8.2.7's URL for a host (its IP and user as path segments, encoded).
fn validate_url(host: &pb::Host) -> String {
    format!(
        "/api/resource/hosts/validate/{}/{}/ssh",
        path_segment(&host.host_ip),
        path_segment(&host.ssh_user)
    )
}

fn host_view(host: pb::Host, may_validate: bool) -> HostView {
    let credential = match (host.has_private_key, host.has_password) {
        (true, _) => "key",
        (false, true) => "password",
        (false, false) => "",
    };
    HostView {
        validate_url: may_validate.then(|| validate_url(&host)),
        id: host.id,
        ip: host.host_ip,
        name: host.host_name,
        ssh_user: host.ssh_user,
        ssh_port: host.ssh_port,
        environment: host.env_name,
        product_line: host.product_line_name,
        credential,
        host_key_pinned: host.host_key_pinned,
        clusters: host
            .clusters
            .into_iter()
            .map(|cluster| cluster.name)
            .collect(),
    }
}

/// Operators and admins may check SSH logins (8.2.7).
fn may_validate(call: &Call) -> bool {
    let claims = &call.caller.claims;
    claims.has_role(Role::Admin) || claims.has_role(Role::Operator)
}

fn query_value(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn name_filter(name: &str) -> Option<String> {
    (!name.is_empty()).then(|| name.to_owned())
}

/// `GET /console/clusters?name=&page=`.
pub async fn clusters_page(
    request: HttpRequest,
    call: Call,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let query = PageQuery::new(query.into_inner())?;
    let name = capped("name", &query.text("name"))?.to_owned();
    let page = page_of(&query)?;
    let answer = reply(call.resource().query_clusters(pb::QueryClustersRequest {
        app_id: None,
        name: name_filter(&name),
        page,
        page_size: PAGE_SIZE,
    }))
    .await?;
    let view = ClustersPage {
        frame: signed_in_frame(&request, &call.caller, "resources")?,
        clusters: answer.clusters.into_iter().map(cluster_view).collect(),
        count: answer.count,
        name_query: query_value(&name),
        name,
        pager: Pager::new(page, answer.count),
    };
    Ok(html(StatusCode::OK, render("clusters.html", &view)?))
}

/// `GET /console/hosts?name=&page=`.
pub async fn hosts_page(
    request: HttpRequest,
    call: Call,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let query = PageQuery::new(query.into_inner())?;
    let name = capped("name", &query.text("name"))?.to_owned();
    let page = page_of(&query)?;
    let answer = reply(call.resource().query_hosts(pb::QueryHostsRequest {
        host_name: name_filter(&name),
        product_line_id: None,
        page,
        page_size: PAGE_SIZE,
    }))
    .await?;
    let may_validate = may_validate(&call);
    let view = HostsPage {
        frame: signed_in_frame(&request, &call.caller, "resources")?,
        hosts: answer
            .hosts
            .into_iter()
            .map(|host| host_view(host, may_validate))
            .collect(),
        cluster: None,
        count: answer.count,
        name_query: query_value(&name),
        name,
        pager: Some(Pager::new(page, answer.count)),
        may_validate,
    };
    Ok(html(StatusCode::OK, render("hosts.html", &view)?))
}

/// `GET /console/clusters/{id}`: the cluster's bound hosts (8.1.6).
pub async fn cluster_page(
    request: HttpRequest,
    call: Call,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = capped("id", &path)?.to_owned();
    let clusters = reply(call.resource().get_clusters(pb::GetClustersRequest {
        ids: vec![id.clone()],
    }))
    .await?
    .clusters;
    let cluster = clusters
        .into_iter()
        .find(|cluster| cluster.id == id)
        .ok_or_else(|| {
            ApiError::new(
                proto::ErrorReason::ClusterNotFound,
                format!("cluster {id} does not exist"),
            )
        })?;
    let hosts = reply(call.resource().cluster_hosts(pb::ClusterIdRequest {
        cluster_id: id.clone(),
    }))
    .await?
    .hosts;
    let may_validate = may_validate(&call);
    let view = HostsPage {
        frame: signed_in_frame(&request, &call.caller, "resources")?,
        count: i64::try_from(hosts.len()).unwrap_or(i64::MAX),
        hosts: hosts
            .into_iter()
            .map(|host| host_view(host, may_validate))
            .collect(),
        cluster: Some(cluster_view(cluster)),
        name: String::new(),
        name_query: String::new(),
        pager: None,
        may_validate,
    };
    Ok(html(StatusCode::OK, render("hosts.html", &view)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_count_from_one_and_stop_at_the_last() {
        let pager = Pager::new(1, 0);
        assert_eq!((pager.pages, pager.previous, pager.next), (1, None, None));
        let pager = Pager::new(2, 41);
        assert_eq!(
            (pager.pages, pager.previous, pager.next),
            (3, Some(1), Some(3))
        );
        let pager = Pager::new(3, 60);
        assert_eq!(
            (pager.pages, pager.previous, pager.next),
            (3, Some(2), None)
        );
    }

    #[test]
    fn the_ssh_check_url_encodes_ip_and_user() {
        let host = pb::Host {
            host_ip: "10.0.0.1".into(),
            ssh_user: "de ploy/../x".into(),
            has_password: true,
            ..Default::default()
        };
        let view = host_view(host.clone(), true);
        assert_eq!(
            view.validate_url.as_deref(),
            Some("/api/resource/hosts/validate/10.0.0.1/de%20ploy%2F..%2Fx/ssh")
        );
        assert_eq!(view.credential, "password");
        assert!(host_view(host, false).validate_url.is_none());
    }
}

#[cfg(test)]
mod page_tests {
    use super::*;
    use crate::console::{i18n::Lang, view::UserView};

    fn frame() -> Frame {
        let user = UserView {
            name: "olga".into(),
            roles: "operator".into(),
            reads_audit: false,
        };
        Frame::new(
            Lang::English,
            "resources",
            Some(user),
            Some("c0ffee".into()),
        )
    }

    #[test]
    fn the_hosts_page_renders_a_later_page_escaped() {
        let host = pb::Host {
            id: "h1".into(),
            host_ip: "10.0.0.1".into(),
            host_name: "<b>web</b>".into(),
            ssh_user: "deploy".into(),
            clusters: vec![pb::ClusterName {
                id: "c1".into(),
                name: "c<1>".into(),
            }],
            ..Default::default()
        };
        let view = HostsPage {
            frame: frame(),
            hosts: vec![host_view(host, true)],
            cluster: None,
            count: 21,
            name: "a b&c".into(),
            name_query: query_value("a b&c"),
            pager: Some(Pager::new(2, 21)),
            may_validate: true,
        };
        let html = render("hosts.html", &view).expect("render");
        assert!(html.contains("&lt;b&gt;web&lt;&#x2f;b&gt;"), "{html}");
        assert!(html.contains("c&lt;1&gt;"), "{html}");
        assert!(html.contains("name=a+b%26c&amp;page=1"), "{html}");
        assert!(html.contains("class=\"ssh-check\""));
    }
}
