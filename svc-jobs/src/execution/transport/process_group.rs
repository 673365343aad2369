//! What both adapters share to run a command in its own process group and kill it by key: the
//! bash wrapper and kill scripts run on the target, the registry of pending runs, and how an
//! ending becomes a [`RunOutcome`].
//!
//! On the target, `run` starts `bash -c RUN_SCRIPT tad-run <key> <command>`. The wrapper makes a
//! private directory `/tmp/tad-<uid>` unless it exists (fixed, not `$TMPDIR`: the kill may come
//! through another SSH session whose environment differs; bash's `$UID`, not `id -u`, so that a
//! command costs no extra process on hundreds of hosts), then starts `setsid` so that the command leads a new
//! session and process group. That leader writes its pid (= the group id) to `<key>.pid` before
//! it `exec`s `bash -c <command>`, so a kill can always find the group once the command runs. The
//! wrapper stays outside the group, waits for it, removes the pid file and exits with the
//! command's status (its own stderr goes to /dev/null once the command starts, so that bash's
//! "Killed" notice does not reach the command's output).
//!
//! `kill` runs `KILL_SCRIPT`: it first leaves a `<key>.pid.kill` mark (only when this transport
//! has a pending run under the key), then sends SIGKILL to the group named in the pid file and
//! waits (up to 3 s) until no process of the group is left, so the caller knows it is reaped;
//! it prints `killed` when it found the group alive. The
//! group leader checks the mark after writing its pid file and before starting the command, so a
//! kill that comes before the pid file exists still stops the command.
//!
//! A command run under a key ending in [`FINAL_KEY_SUFFIX`] (the last command of a host task's
//! work) is not `exec`ed: its group leader waits for it and writes its exit status to
//! `<key>.pid.exit`, which outlives the wrapper. When the service died while that command ran,
//! the command may end on its own before the step is resumed; the kill script then finds no group
//! but the mark, prints `finished <status>` and removes it, and the resume knows the earlier
//! attempt completed there. The service removes the mark itself once it has the status.
//!
//! A pid file can outlive its group when the wrapper itself died (the service was killed with
//! `-9` and its SSH session closed): the group then runs on as an orphan, which a resume kills
//! by the earlier attempt's key before it starts the step again. The leader carries
//! `TAD_RUN_KEY=<key>` in its environment; where `/proc` shows a process of that pid without
//! it, the pid was reused by something else (or the leader has just exited and is a zombie
//! whose environment reads empty) and nothing is killed; the exit status mark is still read,
//! since it is the key's own whatever the pid now is (a final command's leader writes it before
//! it exits, so a resume that looks in the zombie's moment finds it).

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use super::{Reaped, RunOutcome};
use crate::execution::shell;

/// How long output may still arrive after the command ended (a background process that keeps
/// the output open does not hold the run longer than this).
pub(super) const OUTPUT_GRACE: Duration = Duration::from_secs(2);

/// How long to wait for a killed command to be reported ended.
pub(super) const KILL_GRACE: Duration = Duration::from_secs(5);

/// Ends the key of the last command of a host task's work: its exit status is kept on the target
/// (`<key>.pid.exit`) until the service removes it once the task's outcome is recorded. The kill
/// script reads it and leaves it: a resume that dies after reading it, before recording what it
/// said, leaves it to the next resume.
pub(crate) const FINAL_KEY_SUFFIX: &str = "-final";

/// The name (in `/tmp/tad-$UID`) of the exit status mark of the final command under `key`.
pub(crate) fn final_mark_name(key: &str) -> String {
    format!("{key}{FINAL_KEY_SUFFIX}.pid.exit")
}

/// The exit status bash answers for a process killed by SIGKILL.
const KILLED_STATUS: i32 = 128 + 9;

/// The wrapper around every command; `$1` is the key, `$2` the command.
const RUN_SCRIPT: &str = r#"dir="/tmp/tad-$UID"
[ -d "$dir" ] || mkdir -p -m 700 -- "$dir" 2>/dev/null
if [ -L "$dir" ] || [ ! -O "$dir" ]; then
  echo "tad: $dir is not a private directory of $(id -un)" >&2
  exit 125
fi
pidfile="$dir/$1.pid"
exec 3>&2 2>/dev/null
TAD_RUN_KEY="$1" setsid -w bash -c 'echo "$$" > "$0" || exit 125; if [ -e "$0.kill" ]; then exit 137; fi; case "$0" in *-final.pid) bash -c "$1"; status=$?; echo "$status" > "$0.exit"; exit "$status" ;; esac; exec bash -c "$1"' "$pidfile" "$2" 2>&3 3>&-
status=$?
rm -f -- "$pidfile" "$pidfile.kill"
exit "$status"
"#;

/// Kills the process group started under the key `$1`; `$2` is `mark` to also stop a command
/// that has not started yet, or `probe` to only say whether the group still runs (`running`),
/// killing nothing.
const KILL_SCRIPT: &str = r#"dir="/tmp/tad-$UID"
if [ -L "$dir" ] || [ ! -O "$dir" ]; then
  exit 0
fi
pidfile="$dir/$1.pid"
if [ "$2" = mark ]; then
  : > "$pidfile.kill"
fi
if [ -s "$pidfile" ]; then
  group=$(cat -- "$pidfile")
  case "$group" in
    ''|*[!0-9]*) exit 0 ;;
  esac
  if [ "$group" -le 1 ]; then
    exit 0
  fi
  ours=yes
  if [ -r "/proc/$group/environ" ] && ! tr '\0' '\n' < "/proc/$group/environ" | grep -qxF "TAD_RUN_KEY=$1"; then
    ours=no
  fi
  if [ "$ours" = no ]; then
    :
  elif [ "$2" = probe ]; then
    if kill -0 -- "-$group" 2>/dev/null; then
      echo running
      exit 0
    fi
  else
    if kill -KILL -- "-$group" 2>/dev/null; then
      echo killed
    fi
    tries=0
    while kill -0 -- "-$group" 2>/dev/null && [ "$tries" -lt 30 ]; do
      sleep 0.1
      tries=$((tries + 1))
    done
  fi
fi
if [ -f "$pidfile.exit" ]; then
  status=$(cat -- "$pidfile.exit")
  case "$status" in
    ''|*[!0-9]*) ;;
    *) echo "finished $status" ;;
  esac
fi
exit 0
"#;

/// The program and arguments that run `command` in a new process group under `key`.
pub(super) fn run_invocation(key: &str, command: &str) -> [String; 6] {
    bash_invocation(RUN_SCRIPT, "tad-run", key, command)
}

/// What the kill script does to the process group under a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KillMode {
    /// Kills it, and stops a command of a pending run that has not started yet.
    Mark,
    /// Kills it.
    NoMark,
    /// Only tells whether it still runs (or how its final command ended).
    Probe,
}

/// The program and arguments that kill (or, with [`KillMode::Probe`], look at) the process group
/// started under `key`. What it prints tells [`reaped`] what it found.
pub(super) fn kill_invocation(key: &str, mode: KillMode) -> [String; 6] {
    let mode = match mode {
        KillMode::Mark => "mark",
        KillMode::NoMark => "no-mark",
        KillMode::Probe => "probe",
    };
    bash_invocation(KILL_SCRIPT, "tad-kill", key, mode)
}

fn bash_invocation(script: &str, name: &str, first: &str, second: &str) -> [String; 6] {
    ["bash", "-c", script, name, first, second].map(str::to_owned)
}

/// What the output of the kill script says it found: a live group it killed, or the mark of a
/// final command that ended on its own (see [`FINAL_KEY_SUFFIX`]).
pub(super) fn reaped(stdout: &[u8]) -> Reaped {
    let text = String::from_utf8_lossy(stdout);
    let finished = text.lines().find_map(|line| {
        line.trim()
            .strip_prefix("finished ")
            .and_then(|code| code.parse().ok())
    });
    match finished {
        Some(code) => Reaped::Finished(code),
        None if text.lines().any(|line| line.trim() == "killed") => Reaped::Killed,
        None if text.lines().any(|line| line.trim() == "running") => Reaped::Running,
        None => Reaped::Nothing,
    }
}

/// One shell command line of `words`, each quoted.
pub(super) fn command_line(words: &[String]) -> String {
    words
        .iter()
        .map(|word| shell::quote(word))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks that `key` is usable in a file name on the target: `[a-z0-9-]`, not empty.
pub(super) fn check_key(key: &str) -> Result<(), String> {
    let valid = !key.is_empty()
        && key.len() <= 128
        && key
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "run key {key:?} must be 1 to 128 characters of [a-z0-9-]"
        ))
    }
}

/// How the command's wrapper ended, as the adapter saw it.
#[derive(Debug)]
pub(super) enum Ending {
    Exited(i32),
    Signalled(String),
    /// It ended without a status (e.g. the SSH channel closed).
    Lost,
}

/// The outcome of a run that ended on its own or by [`super::Transport::kill`] (`killed`).
/// Answers `None` when nothing says how it ended.
pub(super) fn outcome(ending: Ending, killed: bool) -> Option<RunOutcome> {
    match ending {
        Ending::Exited(KILLED_STATUS) | Ending::Lost if killed => {
            Some(RunOutcome::Signalled("KILL".to_owned()))
        }
        Ending::Exited(code) => Some(RunOutcome::Exited(code)),
        Ending::Signalled(name) => Some(RunOutcome::Signalled(name)),
        Ending::Lost => None,
    }
}

/// The name of signal `number` as `kill -l` prints it (`SIG<number>` for unusual ones).
pub(super) fn signal_name(number: i32) -> String {
    let name = match number {
        1 => "HUP",
        2 => "INT",
        3 => "QUIT",
        4 => "ILL",
        6 => "ABRT",
        8 => "FPE",
        9 => "KILL",
        10 => "USR1",
        11 => "SEGV",
        12 => "USR2",
        13 => "PIPE",
        14 => "ALRM",
        15 => "TERM",
        _ => return format!("SIG{number}"),
    };
    name.to_owned()
}

/// The runs pending on one transport, by key, with whether they were killed.
#[derive(Default)]
pub(super) struct PendingRuns {
    runs: Arc<Mutex<HashMap<String, Arc<AtomicBool>>>>,
}

impl PendingRuns {
    /// Registers a run under `key`; fails when one is already pending under it.
    pub(super) fn begin(&self, key: &str) -> Result<PendingRun, String> {
        let mut runs = self
            .runs
            .lock()
            .map_err(|_| "the registry of pending runs is unusable".to_owned())?;
        if runs.contains_key(key) {
            return Err(format!("a command is already running under key {key}"));
        }
        let killed = Arc::new(AtomicBool::new(false));
        runs.insert(key.to_owned(), killed.clone());
        Ok(PendingRun {
            runs: self.runs.clone(),
            key: key.to_owned(),
            killed,
        })
    }

    /// How [`super::Transport::kill`] kills under `key`: marking the pending run of this
    /// transport killed (and the target's kill mark left for a command not started yet) when
    /// there is one.
    pub(super) fn kill_mode(&self, key: &str) -> KillMode {
        if self.mark_killed(key) {
            KillMode::Mark
        } else {
            KillMode::NoMark
        }
    }

    /// Notes that the run under `key` is being killed; answers whether one is pending.
    pub(super) fn mark_killed(&self, key: &str) -> bool {
        let Ok(runs) = self.runs.lock() else {
            return false;
        };
        match runs.get(key) {
            Some(killed) => {
                killed.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }
}

/// A registered run; leaves the registry when dropped.
pub(super) struct PendingRun {
    runs: Arc<Mutex<HashMap<String, Arc<AtomicBool>>>>,
    key: String,
    killed: Arc<AtomicBool>,
}

impl PendingRun {
    /// Whether [`super::Transport::kill`] was called for this run.
    pub(super) fn killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }
}

impl Drop for PendingRun {
    fn drop(&mut self) {
        if let Ok(mut runs) = self.runs.lock() {
            runs.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_file_name_safe() {
        assert!(check_key("task-42-a").is_ok());
        for bad in ["", "../x", "A", "a b", "a/b", "a.pid"] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_killed_run_is_signalled_and_an_exit_code_stays_one() {
        assert_eq!(
            outcome(Ending::Exited(137), true),
            Some(RunOutcome::Signalled("KILL".into()))
        );
        assert_eq!(
            outcome(Ending::Lost, true),
            Some(RunOutcome::Signalled("KILL".into()))
        );
        assert_eq!(
            outcome(Ending::Exited(137), false),
            Some(RunOutcome::Exited(137))
        );
        assert_eq!(
            outcome(Ending::Exited(0), true),
            Some(RunOutcome::Exited(0))
        );
        assert_eq!(outcome(Ending::Lost, false), None);
    }

    #[test]
    fn a_key_runs_once_at_a_time() {
        let runs = PendingRuns::default();
        let run = runs.begin("k").expect("first");
        assert!(runs.begin("k").is_err());
        assert!(runs.mark_killed("k"));
        assert!(run.killed());
        drop(run);
        assert!(!runs.mark_killed("k"));
        assert!(runs.begin("k").is_ok());
    }

    #[test]
    fn the_command_line_quotes_every_word() {
        let line = command_line(&run_invocation("k", "echo 'hi'"));
        assert!(line.starts_with("'bash' '-c' '"), "{line}");
        assert!(line.ends_with(r"'tad-run' 'k' 'echo '\''hi'\'''"), "{line}");
    }
}
