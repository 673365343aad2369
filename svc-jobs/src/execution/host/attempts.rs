//! Attempts of a host task: what earlier attempts of the step left on the host is killed (or, when
//! their final command ended there on its own, counted) before this attempt starts, and the exit
//! status marks of this attempt and the earlier ones are removed once its outcome is recorded.

use super::{Early, HostOutcome, HostWork};
use crate::execution::{
    shell::CommandLine,
    transport::{FINAL_KEY_SUFFIX, Reaped, Transport, final_mark_name},
};
use crate::{db::models::runs::HostTaskRow, execution::Inner};

impl HostWork<'_> {
    /// Kills and reaps what earlier attempts of this step left running on the host (an orphan
    /// of a replica killed with `-9` runs on in its own process group), so that it never overlaps
    /// this attempt. A host where that cannot be made sure fails the task instead. Answers the
    /// key of an earlier attempt whose work ended here with code 0 on its own (its final
    /// command left its mark): that attempt completed the step here.
    pub(super) async fn reap_earlier_attempts(
        &mut self,
        transport: &dyn Transport,
    ) -> Result<Option<String>, Early> {
        let mut finished = None;
        for key in self.earlier_attempts.clone() {
            for group in [key.clone(), format!("{key}{FINAL_KEY_SUFFIX}")] {
                match transport.kill(&group).await {
                    Ok(Reaped::Killed) => {
                        tracing::warn!(host_task = %self.task.id, key, "killed what an earlier attempt left running");
                        self.log
                            .line(format!(
                                "==> an earlier attempt ({key}) was still running here: killed its process group before starting again"
                            ))
                            .await;
                    }
                    Ok(Reaped::Finished(0)) => finished = Some(key.clone()),
                    Ok(Reaped::Finished(code)) => {
                        self.log
                            .line(format!(
                                "==> an earlier attempt ({key}) ended here with code {code} after its service stopped: running the step again"
                            ))
                            .await;
                    }
                    Ok(Reaped::Nothing) => {}
                    Err(error) => {
                        return Err(HostOutcome::Failed(format!(
                            "cannot make sure the earlier attempt {key} no longer runs on host {}: {error}",
                            self.task.host_ip
                        )));
                    }
                }
            }
        }
        Ok(finished)
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
