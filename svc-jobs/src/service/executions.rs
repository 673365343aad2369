//! Execution requests (6.1, 6.2, 6.3 and the run routes of SPEC §5): who may deploy, and what
//! the answer says. The engine in `crate::execution` does the work.

use tokio::sync::mpsc;

use common::paging::PageRequest;

use super::{Actor, JobsResult, JobsService, require_operator, require_reader};
use crate::{
    db::models::runs::{EventRow, RunRow},
    execution::{LogChunk, Mode, RunTree, Started, plan::ArtifactPlan},
};

/// Holds until the run ends (`wait`), or answers its id at once.
async fn answer(started: Started, wait: bool) -> JobsResult<ExecuteAnswer> {
    let execution_id = started.run_id.clone();
    if !wait {
        return Ok(ExecuteAnswer {
            execution_id,
            result: true,
            msg: None,
            status: "running".to_owned(),
        });
    }
    let end = started.wait().await;
    Ok(ExecuteAnswer {
        execution_id,
        result: end.succeeded(),
        msg: if end.succeeded() { None } else { end.message },
        status: end.status,
    })
}

/// The `data` of 6.1 / 6.2 / 6.3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecuteAnswer {
    pub execution_id: String,
    pub result: bool,
    /// The first failure (host and step); None on success.
    pub msg: Option<String>,
    pub status: String,
}

impl JobsService {
    /// 6.1 (`Mode::All`) and 6.2 (`Mode::NextStep`); with `wait` the answer comes when the
    /// work has ended. A caller that goes away does not cancel the run.
    pub async fn execute(
        &self,
        actor: &Actor,
        instance_id: &str,
        mode: Mode,
        use_tad_host: bool,
        wait: bool,
    ) -> JobsResult<ExecuteAnswer> {
        require_operator(actor)?;
        let started = self
            .engine
            .start(actor.username(), instance_id, mode, use_tad_host)
            .await?;
        answer(started, wait).await
    }

    /// `POST /api/executions/{id}/retry`.
    pub async fn retry_execution(
        &self,
        actor: &Actor,
        execution_id: &str,
        wait: bool,
    ) -> JobsResult<ExecuteAnswer> {
        require_operator(actor)?;
        let started = self.engine.retry(actor.username(), execution_id).await?;
        answer(started, wait).await
    }

    /// `POST /api/app/jobinstance/{id}/rollback`.
    pub async fn rollback(
        &self,
        actor: &Actor,
        instance_id: &str,
        use_tad_host: bool,
        wait: bool,
    ) -> JobsResult<ExecuteAnswer> {
        require_operator(actor)?;
        let started = self
            .engine
            .rollback(actor.username(), instance_id, use_tad_host)
            .await?;
        answer(started, wait).await
    }

    /// `GET /api/app/jobinstance/{id}/executions`: (count, runs with their artifact versions).
    pub async fn execution_history(
        &self,
        actor: &Actor,
        instance_id: &str,
        page: PageRequest,
    ) -> JobsResult<(i64, Vec<(RunRow, Vec<ArtifactPlan>)>)> {
        require_reader(actor)?;
        self.engine
            .history(instance_id, page.offset(), page.limit())
            .await
    }

    /// 6.3: stops the instance's running run; answers after its host tasks have ended.
    pub async fn stop_execution(
        &self,
        actor: &Actor,
        instance_id: &str,
    ) -> JobsResult<ExecuteAnswer> {
        require_operator(actor)?;
        let (execution_id, end) = self.engine.stop(instance_id).await?;
        let stopped = end.status != "running";
        Ok(ExecuteAnswer {
            execution_id,
            result: stopped,
            msg: if stopped { None } else { end.message },
            status: end.status,
        })
    }

    /// `GET /api/executions/{id}`.
    pub async fn execution(&self, actor: &Actor, id: &str) -> JobsResult<RunTree> {
        require_reader(actor)?;
        self.engine.tree(id).await
    }

    /// `GET /api/executions/{id}/log`.
    pub async fn execution_log(
        &self,
        actor: &Actor,
        id: &str,
        host_task_id: &str,
        offset: u64,
    ) -> JobsResult<LogChunk> {
        require_reader(actor)?;
        self.engine.log(id, host_task_id, offset).await
    }

    /// `GET /api/executions/{id}/events`.
    pub async fn watch_execution(
        &self,
        actor: &Actor,
        id: &str,
        after_seq: u64,
    ) -> JobsResult<mpsc::Receiver<JobsResult<EventRow>>> {
        require_reader(actor)?;
        self.engine.watch(id, after_seq).await
    }
}
