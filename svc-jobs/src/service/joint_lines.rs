//! Joint lines (contract 1.4–1.7): a DAG over job instances. Saving replaces the graph and
//! refuses duplicate sequences, unknown parents, unknown instances and cycles, naming them;
//! canvas positions are kept as given.

use std::collections::{BTreeMap, BTreeSet};

use common::{limits, paging::PageRequest, time::now_utc};

use super::{
    Actor, GraphFault, JobsError, JobsResult, JobsService, RecordKind, checked_name,
    checked_reference, checked_text, filter_text, require_operator, require_reader,
};
use crate::db::models::{
    instances,
    joint_lines::{self, JointLineRow, JointNodeRow},
    joint_runs,
};
use crate::domain::{
    INSTANCES_SCOPE, JOINT_LINES_SCOPE, JOINT_RUNS_SCOPE,
    audit::{self, NewEvent},
};

/// A node as the caller sends it: parents as text (numbers, or "" for none).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeInput {
    pub instance_id: String,
    pub sequence: i64,
    pub parents: Vec<String>,
    pub top: f64,
    pub left: f64,
}

/// A node as read back, with its instance's name and status.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeView {
    pub row: JointNodeRow,
    pub parents: Vec<i64>,
    pub instance_name: String,
    pub status: String,
}

fn parse_parents(sequence: i64, parents: &[String]) -> JobsResult<Vec<i64>> {
    let mut parsed = Vec::new();
    for parent in parents {
        let text = parent.trim();
        if text.is_empty() {
            continue;
        }
        let value = text.parse::<i64>().map_err(|_| JobsError::Invalid {
            field: "parent",
            message: format!(
                "{:?} of node {sequence} is not a sequence number",
                limits::excerpt(text)
            ),
        })?;
        limits::range("parent", value, 0, limits::MAX_SEQUENCE)?;
        if !parsed.contains(&value) {
            parsed.push(value);
        }
    }
    Ok(parsed)
}

/// Checks the graph: unique sequences, known parents, no cycle.
fn check_graph(nodes: &[(i64, Vec<i64>)]) -> JobsResult<()> {
    let mut sequences = BTreeSet::new();
    for (sequence, _) in nodes {
        if !sequences.insert(*sequence) {
            return Err(JobsError::Graph {
                fault: GraphFault::DuplicateSequence,
                message: format!("sequence {sequence} appears twice"),
            });
        }
    }
    for (sequence, parents) in nodes {
        if let Some(parent) = parents.iter().find(|parent| !sequences.contains(parent)) {
            return Err(JobsError::Graph {
                fault: GraphFault::UnknownParent,
                message: format!(
                    "node {sequence} names parent {parent}, which is not a node of this joint line"
                ),
            });
        }
    }
    // Kahn: repeatedly take nodes whose parents are all taken; what is left is on a cycle.
    let mut remaining: BTreeMap<i64, BTreeSet<i64>> = nodes
        .iter()
        .map(|(sequence, parents)| (*sequence, parents.iter().copied().collect()))
        .collect();
    loop {
        let ready: Vec<i64> = remaining
            .iter()
            .filter(|(_, parents)| parents.is_empty())
            .map(|(sequence, _)| *sequence)
            .collect();
        if ready.is_empty() {
            break;
        }
        for sequence in &ready {
            remaining.remove(sequence);
        }
        for parents in remaining.values_mut() {
            for sequence in &ready {
                parents.remove(sequence);
            }
        }
    }
    if !remaining.is_empty() {
        let cycle: Vec<String> = remaining.keys().map(ToString::to_string).collect();
        return Err(JobsError::Graph {
            fault: GraphFault::Cycle,
            message: format!("nodes {} form a cycle", cycle.join(", ")),
        });
    }
    Ok(())
}

/// The nodes of a joint line as the audit trail records them: `["0 instance []", ...]`.
fn node_list(rows: &[JointNodeRow]) -> String {
    let nodes: Vec<String> = rows
        .iter()
        .map(|row| format!("{} {} {}", row.sequence, row.instance_id, row.parents))
        .collect();
    audit::json_list(&nodes)
}

impl JobsService {
    /// 1.7: creates an empty joint line of an existing product line.
    pub async fn create_joint_line(
        &self,
        actor: &Actor,
        name: &str,
        remark: &str,
        product_line_id: &str,
    ) -> JobsResult<JointLineRow> {
        require_operator(actor)?;
        let name = checked_name("name", name)?;
        let remark = checked_text("remark", remark, limits::REMARK)?;
        let product_line_id = checked_reference("productline_id", product_line_id)?;
        self.resource
            .require_named(&actor.token, RecordKind::ProductLine, &product_line_id)
            .await?;
        let now = now_utc();
        let row = JointLineRow {
            id: common::ids::new_id(),
            name,
            remark,
            product_line_id,
            creator: actor.username().to_owned(),
            create_time: now,
            mender: None,
            update_time: now,
        };
        let stored = row.clone();
        let origin = audit::origin(actor);
        let written = self
            .database
            .transaction(move |connection| {
                joint_lines::insert(connection, &stored)?;
                let event = NewEvent::new(&origin, "joint_line.create", "joint_line", &stored.id)
                    .change(audit::created("name", &stored.name))
                    .change(audit::created("product_line_id", &stored.product_line_id));
                audit::append(connection, event)
            })
            .await;
        self.reads.written(&[JOINT_LINES_SCOPE], written).await?;
        Ok(row)
    }

    /// 1.6: one page of joint lines by name fragment and product line.
    pub async fn query_joint_lines(
        &self,
        actor: &Actor,
        name: Option<&str>,
        product_line_id: Option<&str>,
        page: PageRequest,
    ) -> JobsResult<(i64, Vec<JointLineRow>)> {
        require_reader(actor)?;
        let (name, product_line_id) = (filter_text(name), filter_text(product_line_id));
        let read = format!("joint lines\n{name:?}\n{product_line_id:?}\n{page:?}");
        let load = self.database.run(move |connection| {
            Ok(joint_lines::page(
                connection,
                name.as_deref(),
                product_line_id.as_deref(),
                page.offset(),
                page.limit(),
            )?)
        });
        self.reads
            .read_through(&[JOINT_LINES_SCOPE], &read, load)
            .await
    }

    /// 1.4: replaces the graph of a joint line.
    pub async fn save_joint_line(
        &self,
        actor: &Actor,
        id: &str,
        nodes: Vec<NodeInput>,
    ) -> JobsResult<JointLineRow> {
        require_operator(actor)?;
        limits::items("joint", nodes.len(), limits::MAX_ITEMS)?;
        let mut parsed = Vec::with_capacity(nodes.len());
        for node in &nodes {
            if node.instance_id.trim().is_empty() {
                return Err(JobsError::Missing { field: "jobi_id" });
            }
            limits::check("jobi_id", node.instance_id.trim(), limits::ID)?;
            limits::range("sequence", node.sequence, 0, limits::MAX_SEQUENCE)?;
            limits::finite("top", node.top, limits::MAX_CANVAS)?;
            limits::finite("left", node.left, limits::MAX_CANVAS)?;
            limits::items("parent", node.parents.len(), limits::MAX_ITEMS)?;
            if !node.top.is_finite() || !node.left.is_finite() {
                return Err(JobsError::Invalid {
                    field: "top",
                    message: format!("of node {} must be a number", node.sequence),
                });
            }
            parsed.push((node.sequence, parse_parents(node.sequence, &node.parents)?));
        }
        check_graph(&parsed)?;
        let id = id.to_owned();
        let mender = actor.username().to_owned();
        let origin = audit::origin(actor);
        let written = self
            .database
            .transaction(move |connection| {
                let line = joint_lines::find(connection, &id)?.ok_or(JobsError::NotFound {
                    kind: RecordKind::JointLine,
                    id: id.clone(),
                })?;
                let instance_ids: Vec<String> = nodes
                    .iter()
                    .map(|node| node.instance_id.trim().to_owned())
                    .collect();
                let found = instances::find_many(connection, &instance_ids)?;
                if let Some(missing) = instance_ids
                    .iter()
                    .find(|wanted| !found.iter().any(|row| &row.id == *wanted))
                {
                    return Err(JobsError::NotFound {
                        kind: RecordKind::Instance,
                        id: missing.clone(),
                    });
                }
                let rows: Vec<JointNodeRow> = nodes
                    .iter()
                    .zip(parsed.iter())
                    .map(|(node, (sequence, parents))| JointNodeRow {
                        joint_line_id: id.clone(),
                        sequence: *sequence,
                        instance_id: node.instance_id.trim().to_owned(),
                        parents: serde_json::to_string(parents).unwrap_or_else(|_| "[]".to_owned()),
                        canvas_top: node.top,
                        canvas_left: node.left,
                    })
                    .collect();
                // Touched first: the row lock makes concurrent saves of one joint line wait for
                // each other (PostgreSQL), so each replaces what the previous one committed.
                let now = now_utc();
                joint_lines::touch(connection, &id, &mender, now)?;
                let before = node_list(&joint_lines::nodes(connection, &id)?);
                joint_lines::replace_nodes(connection, &id, &rows)?;
                let mut event = NewEvent::new(&origin, "joint_line.save", "joint_line", &id);
                let after = node_list(&rows);
                event
                    .changes
                    .extend(audit::changed("nodes", Some(&before), Some(&after)));
                audit::append(connection, event)?;
                Ok(JointLineRow {
                    mender: Some(mender),
                    update_time: now,
                    ..line
                })
            })
            .await;
        self.reads.written(&[JOINT_LINES_SCOPE], written).await
    }

    /// 1.5: a joint line and its nodes with their instances' names and statuses.
    pub async fn joint_line_structure(
        &self,
        actor: &Actor,
        id: &str,
    ) -> JobsResult<(JointLineRow, Vec<NodeView>)> {
        require_reader(actor)?;
        let id = id.to_owned();
        let read = format!("joint line structure\n{id}");
        let load = self.database.run(move |connection| {
            let line = joint_lines::find(connection, &id)?.ok_or(JobsError::NotFound {
                kind: RecordKind::JointLine,
                id: id.clone(),
            })?;
            let rows = joint_lines::nodes(connection, &id)?;
            // A node's status: how it ended in the latest joint run, else its instance's.
            let run_statuses: Vec<(i64, String)> =
                match joint_runs::latest_of_line(connection, &id)? {
                    Some(run) => joint_runs::nodes(connection, &run.id)?
                        .into_iter()
                        .filter(|node| {
                            rows.iter().any(|row| {
                                row.sequence == node.sequence && row.instance_id == node.instance_id
                            })
                        })
                        .map(|node| (node.sequence, node.status))
                        .collect(),
                    None => Vec::new(),
                };
            let instance_ids: Vec<String> =
                rows.iter().map(|row| row.instance_id.clone()).collect();
            let found = instances::find_many(connection, &instance_ids)?;
            let views = rows
                .into_iter()
                .map(|row| {
                    let instance = found.iter().find(|instance| instance.id == row.instance_id);
                    NodeView {
                        parents: serde_json::from_str(&row.parents).unwrap_or_default(),
                        instance_name: instance
                            .map(|instance| instance.name.clone())
                            .unwrap_or_default(),
                        status: run_statuses
                            .iter()
                            .find(|(sequence, _)| *sequence == row.sequence)
                            .map(|(_, status)| status.clone())
                            .or_else(|| instance.map(|instance| instance.status.clone()))
                            .unwrap_or_default(),
                        row,
                    }
                })
                .collect();
            Ok((line, views))
        });
        // The line, how its nodes ended in the latest joint run, else their instances' status.
        let scopes = [JOINT_LINES_SCOPE, JOINT_RUNS_SCOPE, INSTANCES_SCOPE];
        self.reads.read_through(&scopes, &read, load).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphs_are_checked() {
        assert!(check_graph(&[(0, vec![]), (1, vec![0]), (2, vec![0]), (3, vec![1, 2])]).is_ok());
        let duplicate = check_graph(&[(0, vec![]), (0, vec![])]).expect_err("duplicate");
        assert!(matches!(
            duplicate,
            JobsError::Graph {
                fault: GraphFault::DuplicateSequence,
                ..
            }
        ));
        let unknown = check_graph(&[(0, vec![7])]).expect_err("unknown parent");
        assert!(unknown.to_string().contains('7'));
        let cycle = check_graph(&[(0, vec![]), (1, vec![2]), (2, vec![1])]).expect_err("cycle");
        assert!(matches!(
            cycle,
            JobsError::Graph {
                fault: GraphFault::Cycle,
                ..
            }
        ));
        assert!(cycle.to_string().contains("1, 2"), "{cycle}");
        assert!(
            check_graph(&[(0, vec![0])]).is_err(),
            "a node is not its own parent"
        );
    }

    #[test]
    fn parents_are_read_from_text() {
        assert_eq!(
            parse_parents(1, &["0".into(), "".into(), "0".into()]).expect("parsed"),
            vec![0]
        );
        assert!(parse_parents(1, &["x".into()]).is_err());
    }
}
