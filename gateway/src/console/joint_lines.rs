//! The console's joint-line pages (issue 18): the list (1.6, filtered by product line and name,
//! a page at a time) and one joint line's graph, drawn on the server as SVG from its saved
//! `top`/`left` positions (1.5): a box per instance at its position, an arrow from each parent.
//! The roles that may run it get the run button (2.1, which continues the latest joint run when
//! that did not succeed, hence "continue" after a failure); while a joint run goes on, the page's
//! script follows its node statuses (`GET /api/executions/{id}`, the joint run's tree).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use common::auth::Role;
use proto::jobs::v1 as pb;
use serde::Serialize;

use super::{
    dashboard::status_class,
    i18n::{Catalogue, Lang},
    instances::product_line_choices,
    listing::{Choice, PageQuery, Paging, status_text},
    signed_in_frame,
    view::{Frame, render},
};
use crate::{
    clients::{Call, reply},
    error::ApiError,
    legacy::appinhouse_pages::html,
};

/// Joint lines a page of the list shows.
const PAGE_SIZE: usize = 25;
/// Where the list is.
const JOINT_LINES_PATH: &str = "/console/jointlines";
/// A node's box in the graph, and the margin around the drawing.
const NODE_WIDTH: f64 = 180.0;
const NODE_HEIGHT: f64 = 56.0;
const MARGIN: f64 = 16.0;
/// Most characters of an instance's name a box shows.
const LABEL_CHARS: usize = 20;

/// The joint-line pages' messages.
pub const MESSAGES: Catalogue = &[
    ("nav_joint_lines", "Joint lines", "联合上线"),
    ("joint_lines_title", "Joint lines", "联合上线"),
    ("joint_line_title", "Joint line", "联合上线"),
    (
        "no_joint_lines",
        "No joint line matches.",
        "没有符合条件的联合上线。",
    ),
    ("back_to_joint_lines", "All joint lines", "全部联合上线"),
    ("graph", "Graph", "编排图"),
    (
        "no_nodes",
        "This joint line has no instances yet.",
        "该联合上线尚未编排实例。",
    ),
    ("parents", "After", "前置"),
    ("run_joint_line", "Run", "执行"),
    ("continue_joint_line", "Continue", "继续执行"),
    (
        "confirm_joint_run",
        "Runs these instances, each once the instances before it succeeded (independent branches at once):",
        "将执行以下实例，每个实例在其前置实例成功后开始（独立分支同时执行）：",
    ),
    (
        "continue_note",
        "Continue: the latest joint run did not succeed; instances that succeeded do not run again.",
        "继续执行：最近一次联合执行未成功；已成功的实例不会再次执行。",
    ),
    ("joint_run", "Joint run", "联合执行"),
];

/// A joint line of the list.
#[derive(Debug, Clone, Serialize)]
pub struct JointLineRow {
    pub id: String,
    pub name: String,
    pub remark: String,
    pub creator: String,
    pub updated: String,
}

/// The list page's values.
#[derive(Debug, Serialize)]
pub struct JointLinesPage {
    #[serde(flatten)]
    pub frame: Frame,
    pub product_line: String,
    pub name: String,
    pub product_lines: Vec<Choice>,
    pub joint_lines: Vec<JointLineRow>,
    pub paging: Paging,
}

/// `GET /console/jointlines?product_line=&name=&page=`.
pub async fn list_page(
    request: HttpRequest,
    call: Call,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let query = PageQuery::new(query.into_inner())?;
    let page = query.page()?;
    let product_line = query.text("product_line");
    let name = query.text("name");
    let some = |text: &str| (!text.is_empty()).then(|| text.to_owned());
    let list = pb::QueryJointLinesRequest {
        name: some(&name),
        product_line_id: some(&product_line),
        page: u32::try_from(page).unwrap_or(u32::MAX),
        page_size: PAGE_SIZE as u32,
    };
    let answer = reply(call.jobs().query_joint_lines(list)).await?;
    let count = usize::try_from(answer.count).unwrap_or_default();
    let kept = [
        ("product_line", product_line.as_str()),
        ("name", name.as_str()),
    ];
    let paging = Paging::new(JOINT_LINES_PATH, &kept, page, PAGE_SIZE, count);
    let joint_lines = answer
        .joint_lines
        .into_iter()
        .map(|line| JointLineRow {
            updated: call.times.render_unix_ms(line.update_time_ms),
            id: line.id,
            name: line.name,
            remark: line.remark,
            creator: line.creator,
        })
        .collect();
    let page = JointLinesPage {
        frame: signed_in_frame(&request, &call.caller, "jointlines")?,
        product_lines: product_line_choices(&call, &product_line).await?,
        product_line,
        name,
        joint_lines,
        paging,
    };
    Ok(html(StatusCode::OK, render("jointlines.html", &page)?))
}

/// A node of the graph: its box (the saved position, shifted so that nothing is left of or above
/// the drawing) and its status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeView {
    pub sequence: i64,
    pub instance_id: String,
    pub instance_name: String,
    /// The name as the box shows it (cut to [`LABEL_CHARS`]).
    pub label: String,
    pub parents: Vec<i64>,
    /// The saved position, as given.
    pub top: f64,
    pub left: f64,
    /// The box in the drawing.
    pub x: f64,
    pub y: f64,
    pub status: String,
    pub status_class: String,
    pub status_text: String,
}

/// An arrow from a parent's box to a child's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdgeView {
    pub from: i64,
    pub to: i64,
    pub path: String,
}

/// The drawing: its size, boxes and arrows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Graph {
    pub width: f64,
    pub height: f64,
    pub node_width: f64,
    pub node_height: f64,
    pub nodes: Vec<NodeView>,
    pub edges: Vec<EdgeView>,
}

/// A name cut to [`LABEL_CHARS`] (with `…` when cut).
fn label(name: &str) -> String {
    if name.chars().count() <= LABEL_CHARS {
        return name.to_owned();
    }
    let cut: String = name.chars().take(LABEL_CHARS - 1).collect();
    format!("{cut}…")
}

/// Lays the nodes out at their saved positions; an arrow from each parent (a parent that is not
/// a node of the line draws nothing).
pub fn graph(lang: Lang, nodes: Vec<pb::JointNode>) -> Graph {
    let messages = lang.messages();
    let finite = |value: f64| if value.is_finite() { value } else { 0.0 };
    let min_left = nodes
        .iter()
        .map(|node| finite(node.left))
        .fold(0.0, f64::min);
    let min_top = nodes
        .iter()
        .map(|node| finite(node.top))
        .fold(0.0, f64::min);
    let nodes: Vec<NodeView> = nodes
        .into_iter()
        .map(|node| NodeView {
            x: finite(node.left) - min_left + MARGIN,
            y: finite(node.top) - min_top + MARGIN,
            top: node.top,
            left: node.left,
            parents: node
                .parents
                .iter()
                .filter_map(|parent| parent.trim().parse().ok())
                .collect(),
            status_class: status_class(&node.status).to_owned(),
            status_text: status_text(&messages, &node.status),
            label: label(&node.instance_name),
            sequence: node.sequence,
            instance_id: node.instance_id,
            instance_name: node.instance_name,
            status: node.status,
        })
        .collect();
    let at: HashMap<i64, &NodeView> = nodes.iter().map(|node| (node.sequence, node)).collect();
    let edges = nodes
        .iter()
        .flat_map(|child| {
            child.parents.iter().filter_map(|parent| {
                let parent = at.get(parent)?;
                let (x1, y1) = (parent.x + NODE_WIDTH, parent.y + NODE_HEIGHT / 2.0);
                let (x2, y2) = (child.x, child.y + NODE_HEIGHT / 2.0);
                let bend = ((x2 - x1).abs() / 2.0).max(24.0);
                Some(EdgeView {
                    from: parent.sequence,
                    to: child.sequence,
                    path: format!(
                        "M {x1:.1} {y1:.1} C {:.1} {y1:.1}, {:.1} {y2:.1}, {x2:.1} {y2:.1}",
                        x1 + bend,
                        x2 - bend
                    ),
                })
            })
        })
        .collect();
    let extent = |edge: fn(&NodeView) -> f64, size: f64| {
        nodes.iter().map(edge).fold(0.0, f64::max) + size + MARGIN
    };
    Graph {
        width: extent(|node| node.x, NODE_WIDTH),
        height: extent(|node| node.y, NODE_HEIGHT),
        node_width: NODE_WIDTH,
        node_height: NODE_HEIGHT,
        nodes,
        edges,
    }
}

/// The joint-line page's values.
#[derive(Debug, Serialize)]
pub struct JointLinePage {
    #[serde(flatten)]
    pub frame: Frame,
    pub id: String,
    pub name: String,
    pub graph: Graph,
    /// `POST` here to run (or continue) the joint line; absent for roles that may not.
    pub run_url: Option<String>,
    /// A node did not succeed last time: the button continues.
    pub continues: bool,
    /// The joint run the page follows (`?run=`), if any.
    pub run: String,
}

/// `GET /console/jointlines/{id}?run=` (`run`: a joint run whose statuses to follow).
pub async fn detail_page(
    request: HttpRequest,
    call: Call,
    id: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let query = PageQuery::new(query.into_inner())?;
    let lang = Lang::of_request(&request);
    let answer = reply(call.jobs().joint_line_structure(pb::IdRequest {
        id: id.into_inner(),
    }))
    .await?;
    let line = answer.joint_line.ok_or_else(|| {
        ApiError::new(
            proto::ErrorReason::InternalError,
            "the jobs service answered no joint line",
        )
    })?;
    let continues = answer
        .nodes
        .iter()
        .any(|node| matches!(node.status.as_str(), "failed" | "stopped" | "interrupted"));
    let may_run = call.caller.claims.may(&[Role::Operator]) && !answer.nodes.is_empty();
    let page = JointLinePage {
        frame: signed_in_frame(&request, &call.caller, "jointlines")?,
        run_url: may_run.then(|| format!("/api/app/jointline/{}/execution?wait=false", line.id)),
        id: line.id,
        name: line.name,
        graph: graph(lang, answer.nodes),
        continues,
        run: query.text("run"),
    };
    Ok(html(StatusCode::OK, render("jointline.html", &page)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(
        sequence: i64,
        parents: &[&str],
        (top, left): (f64, f64),
        status: &str,
    ) -> pb::JointNode {
        pb::JointNode {
            instance_id: format!("i{sequence}"),
            sequence,
            parents: parents.iter().map(|parent| (*parent).to_owned()).collect(),
            top,
            left,
            instance_name: format!("instance {sequence}"),
            status: status.into(),
        }
    }

    #[test]
    fn nodes_sit_at_their_saved_positions_with_an_arrow_from_each_parent() {
        let graph = graph(
            Lang::English,
            vec![
                node(0, &[""], (125.0, 256.99998474121093), "success"),
                node(1, &["0"], (155.0, 558.0), "failed"),
                node(2, &["0", "1", "9"], (300.0, 700.5), "ready"),
            ],
        );
        let boxes: Vec<(f64, f64)> = graph.nodes.iter().map(|node| (node.x, node.y)).collect();
        assert_eq!(
            boxes,
            [
                (256.99998474121093 + MARGIN, 125.0 + MARGIN),
                (558.0 + MARGIN, 155.0 + MARGIN),
                (700.5 + MARGIN, 300.0 + MARGIN)
            ]
        );
        assert_eq!(graph.nodes[1].status_class, "failed");
        assert_eq!(graph.nodes[2].status_text, "ready");
        let edges: Vec<(i64, i64)> = graph
            .edges
            .iter()
            .map(|edge| (edge.from, edge.to))
            .collect();
        assert_eq!(edges, [(0, 1), (0, 2), (1, 2)]);
        assert!(
            graph.edges[0].path.starts_with("M 453.0 169.0 C"),
            "{}",
            graph.edges[0].path
        );
        assert_eq!(graph.width, 700.5 + MARGIN + NODE_WIDTH + MARGIN);
        assert_eq!(graph.height, 300.0 + MARGIN + NODE_HEIGHT + MARGIN);
    }

    fn page(run_url: Option<String>) -> String {
        let page = JointLinePage {
            frame: Frame::new(Lang::Chinese, "jointlines", None, Some("c0ffee".into())),
            id: "j1".into(),
            name: "<b>line</b>".into(),
            graph: graph(
                Lang::Chinese,
                vec![
                    node(0, &[], (10.0, 20.0), "failed"),
                    node(1, &["0"], (10.0, 300.0), "success"),
                ],
            ),
            run_url,
            continues: true,
            run: String::new(),
        };
        let mut page = render("jointline.html", &page).expect("render");
        page.retain(|c| c != '\n');
        page
    }

    #[test]
    fn the_graph_is_drawn_escaped_and_run_only_by_roles_that_may() {
        let viewer = page(None);
        assert!(!viewer.contains("<b>line"), "{viewer}");
        assert!(viewer.contains("&lt;b&gt;line&lt;&#x2f;b&gt;"));
        assert!(viewer.contains("<rect x=\"36.0\" y=\"26.0\""), "{viewer}");
        assert!(viewer.contains("class=\"node node-failed\""));
        assert!(viewer.contains("class=\"node-status\""));
        assert!(viewer.contains(">失败</text>"), "{viewer}");
        assert!(!viewer.contains("run-joint-line") && !viewer.contains("data-post"));
        let operator = page(Some("/api/app/jointline/j1/execution?wait=false".into()));
        assert!(operator.contains("id=\"run-joint-line\""));
        assert!(operator.contains("继续执行"), "a failed node: continue");
    }

    #[test]
    fn positions_left_of_or_above_the_origin_shift_the_drawing() {
        let graph = graph(
            Lang::English,
            vec![
                node(0, &[], (-40.0, -10.0), "init"),
                node(1, &[], (f64::NAN, 20.0), "init"),
            ],
        );
        assert_eq!((graph.nodes[0].x, graph.nodes[0].y), (MARGIN, MARGIN));
        assert_eq!(
            (graph.nodes[1].x, graph.nodes[1].y),
            (30.0 + MARGIN, 40.0 + MARGIN)
        );
    }
}
