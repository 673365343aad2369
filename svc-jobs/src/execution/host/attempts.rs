//! Attempts of a host task: what earlier attempts of the step left on the host is killed (their
//! final command waited for, and counted when it ended with code 0) before this attempt starts, and the exit
//! status marks of this attempt and the earlier ones are removed once its outcome is recorded.

use std::time::Duration;

use tokio::time::Instant;

use super::{Early, HostOutcome, HostWork, stopped};
use crate::execution::{
    shell::CommandLine,
    transport::{FINAL_KEY_SUFFIX, Reaped, Transport, TransportError, final_mark_name},
};

/// How often a resume looks whether an earlier attempt's last command has ended.
const FINAL_COMMAND_PROBE_INTERVAL: Duration = Duration::from_millis(500);
use crate::{db::models::runs::HostTaskRow, execution::Inner};

impl HostWork<'_> {
    /// Kills and reaps what earlier attempts of this step left running on the host (an orphan
    /// of a replica killed with `-9` runs on in its own process group), so that it never overlaps
    /// this attempt. An orphan of an attempt's final command is not killed but waited for (see
    /// [`HostWork::wait_for_final_command`]). A host where that cannot be made sure fails the
    /// task instead. Answers the key of an earlier attempt whose work ended here with code 0 on
    /// its own (its final command left its mark): that attempt completed the step here.
    pub(super) async fn reap_earlier_attempts(
        &mut self,
        transport: &dyn Transport,
    ) -> Result<Option<String>, Early> {
        let mut finished = None;
        for key in self.earlier_attempts.clone() {
            let reaped = transport
                .kill(&key)
                .await
                .map_err(|error| self.unsure(&key, error))?;
            if self.note_reaped(&key, reaped).await {
                finished = Some(key.clone());
            }
            let reaped = self.wait_for_final_command(transport, &key).await?;
            if self.note_reaped(&key, reaped).await {
                finished = Some(key.clone());
            }
        }
        Ok(finished)
    }

    /// An earlier attempt's final command may still run here after its service stopped. It is
    /// never killed while it may still end on its own: a kill landing after its script's last
    /// line and before its exit status mark would run the whole step a second time. It is
    /// waited for, up to the step's timeout, and its exit status mark taken; one still running
    /// past the timeout is killed and fails the task (as the timeout of a command does), and a
    /// stop requested meanwhile kills it.
    async fn wait_for_final_command(
        &mut self,
        transport: &dyn Transport,
        key: &str,
    ) -> Result<Reaped, Early> {
        let group = format!("{key}{FINAL_KEY_SUFFIX}");
        let timeout_secs = self.timeout_secs();
        let deadline = Instant::now() + Duration::from_secs(timeout_secs);
        let mut waiting = false;
        loop {
            let found = transport
                .probe(&group)
                .await
                .map_err(|error| self.unsure(key, error))?;
            if found != Reaped::Running {
                return Ok(found);
            }
            if Instant::now() >= deadline {
                let killed = transport
                    .kill(&group)
                    .await
                    .map_err(|error| self.unsure(key, error))?;
                if killed != Reaped::Killed {
                    return Ok(killed);
                }
                return Err(HostOutcome::Failed(format!(
                    "the last command of an earlier attempt ({key}) still ran on host {} {timeout_secs} s after this attempt began waiting for it (the step's timeout): killed",
                    self.task.host_ip
                )));
            }
            if !waiting {
                waiting = true;
                tracing::info!(host_task = %self.task.id, key, "waiting for an earlier attempt's last command");
                self.log
                    .line(format!(
                        "==> an earlier attempt ({key}) still runs its last command here after its service stopped: waiting for it to end (at most {timeout_secs} s; its output is not in this log)"
                    ))
                    .await;
            }
            let mut stop = self.stop.clone();
            tokio::select! {
                _ = tokio::time::sleep(FINAL_COMMAND_PROBE_INTERVAL) => {}
                _ = stopped(&mut stop) => {
                    self.log
                        .line(format!("==> stop requested: killing the last command of the earlier attempt ({key})"))
                        .await;
                    if let Err(error) = transport.kill(&group).await {
                        self.log.line(format!("    kill failed: {error}")).await;
                    }
                    return Err(HostOutcome::Stopped);
                }
            }
        }
    }

    /// Logs what was found under an earlier attempt's `key`; answers whether its work ended
    /// here with code 0 on its own.
    async fn note_reaped(&mut self, key: &str, reaped: Reaped) -> bool {
        match reaped {
            Reaped::Killed => {
                tracing::warn!(host_task = %self.task.id, key, "killed what an earlier attempt left running");
                self.log
                    .line(format!(
                        "==> an earlier attempt ({key}) was still running here: killed its process group before starting again"
                    ))
                    .await;
                false
            }
            Reaped::Finished(0) => true,
            Reaped::Finished(code) => {
                self.log
                    .line(format!(
                        "==> an earlier attempt ({key}) ended here with code {code} after its service stopped: running the step again"
                    ))
                    .await;
                false
            }
            Reaped::Nothing | Reaped::Running => false,
        }
    }

    /// The task's failure when what an earlier attempt left on the host cannot be made sure of.
    fn unsure(&self, key: &str, error: TransportError) -> HostOutcome {
        HostOutcome::Failed(format!(
            "cannot make sure the earlier attempt {key} no longer runs on host {}: {error}",
            self.task.host_ip
        ))
    }

    /// The step already completed here under the earlier attempt `key` (its service died before
    /// it could record that): nothing runs again; the `params.json` it left is removed.
    pub(super) async fn finished_before(&mut self, key: &str) -> HostOutcome {
        tracing::info!(host_task = %self.task.id, key, "an earlier attempt completed the step on the host");
        self.log
            .line(format!(
                "==> an earlier attempt ({key}) completed this step here with code 0 after its service stopped (its output from then on is not in this log): not run again"
            ))
            .await;
        let work = self.work_dir();
        self.secret_files.push(format!("{work}/params.json"));
        self.secret_files
            .push(format!("{work}/package/params.json"));
        HostOutcome::Success
    }
}

/// Ends the work on the host once its outcome is recorded: the exit status marks of the final
/// commands that ran under the keys `marked` go (a resume no longer needs them: the outcome is
/// in the database; a service that dies before this leaves them for a resume to count), then the
/// connection closes.
pub(super) async fn close(
    inner: &Inner,
    task: &HostTaskRow,
    marked: Vec<String>,
    transport: Box<dyn Transport>,
) {
    if !marked.is_empty() {
        let command = marked
            .iter()
            .fold(CommandLine::new("rm -f --"), |command, key| {
                command.private_tmp_file(final_mark_name(key))
            });
        let (sender, _receiver) = tokio::sync::mpsc::channel(4);
        let unmark = format!("{}-unmark", task.run_key());
        if let Err(error) = transport
            .run(command.as_str(), &unmark, inner.ssh_timeout, sender)
            .await
        {
            tracing::debug!(host_task = %task.id, %error, "cannot remove the exit status mark");
        }
    }
    transport.close().await;
}
