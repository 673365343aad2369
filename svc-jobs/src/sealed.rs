//! Parameter values at rest (SPEC §8): the parameter values (5.6.2.4) and app-config values
//! (5.6.2.3) of a step's bindings, and the frozen plan of every run step (parameters by key,
//! rendered configs), are sealed with ChaCha20-Poly1305 under the credential key, as svc-resource
//! seals SSH credentials. A value is secret by its key, and the keys live in svc-artifact's
//! schemas (bindings hold node ids), so every values document is sealed, not only secret ones.
//! Rows written before sealing are read as they are, and sealed at start by
//! [`seal_plaintext_rows`].

use common::{crypto::CredentialCipher, db::Database};
use serde_json::Value;

use crate::{
    db::models::{instances, runs},
    domain::plan::StepPlan,
    domain::{JobsError, JobsResult, bindings::StepBindings},
};

/// What a sealed value is bound to (associated data): it opens only for the same purpose.
const STEP_VALUES: &str = "tad-jobs/step-values";
const RUN_SNAPSHOT: &str = "tad-jobs/run-snapshot";
/// How every sealed value starts (`common::crypto`'s format); plaintext JSON never does.
const SEALED_PREFIX: &str = "v1:";

/// Seals and opens the jobs database's values with the credential key.
#[derive(Clone, Debug)]
pub struct Sealer {
    cipher: CredentialCipher,
}

fn sealing(what: &'static str, doing: &'static str, reason: impl ToString) -> JobsError {
    JobsError::Sealing {
        what,
        doing,
        reason: reason.to_string(),
    }
}

impl Sealer {
    pub fn new(cipher: CredentialCipher) -> Sealer {
        Sealer { cipher }
    }

    /// A values document sealed into a JSON string; a string (sealed already) is kept.
    pub fn seal_values(&self, values: Value) -> JobsResult<Value> {
        if values.is_string() {
            return Ok(values);
        }
        self.cipher
            .seal(&values.to_string(), STEP_VALUES)
            .map(Value::String)
            .map_err(|error| sealing("step values", "sealed", error))
    }

    /// A values document as it was saved: a sealed string opened, anything else (a row written
    /// before sealing) as it is.
    pub fn open_values(&self, values: Value) -> JobsResult<Value> {
        match values {
            Value::String(sealed) if sealed.starts_with(SEALED_PREFIX) => {
                let text = self
                    .cipher
                    .open(&sealed, STEP_VALUES)
                    .map_err(|error| sealing("step values", "opened", error))?;
                serde_json::from_str(&text).map_err(|error| sealing("step values", "read", error))
            }
            other => Ok(other),
        }
    }

    /// A keyed fingerprint of `data` (see [`CredentialCipher::fingerprint`]): plan ids.
    pub fn fingerprint(&self, data: &[u8]) -> String {
        self.cipher.fingerprint(data)
    }

    /// A run step's plan as stored: sealed JSON.
    pub fn seal_plan(&self, plan: &StepPlan) -> JobsResult<String> {
        let text = serde_json::to_string(plan).map_err(|error| JobsError::Invalid {
            field: "snapshot",
            message: error.to_string(),
        })?;
        self.seal_snapshot(&text)
    }

    fn seal_snapshot(&self, text: &str) -> JobsResult<String> {
        self.cipher
            .seal(text, RUN_SNAPSHOT)
            .map_err(|error| sealing("run snapshot", "sealed", error))
    }

    /// A run step's plan from its stored snapshot (sealed, or plain JSON written before sealing).
    pub fn open_plan(&self, stored: &str) -> JobsResult<StepPlan> {
        let opened;
        let text = if stored.starts_with(SEALED_PREFIX) {
            opened = self
                .cipher
                .open(stored, RUN_SNAPSHOT)
                .map_err(|error| sealing("run snapshot", "opened", error))?;
            opened.as_str()
        } else {
            stored
        };
        serde_json::from_str(text).map_err(|error| JobsError::Invalid {
            field: "snapshot",
            message: format!("cannot be read: {error}"),
        })
    }
}

impl StepBindings {
    /// The bindings with their values sealed, as they are stored.
    pub(crate) fn sealed(self, sealer: &Sealer) -> JobsResult<StepBindings> {
        self.with_values(|values| sealer.seal_values(values))
    }

    /// The bindings with their values opened.
    pub(crate) fn opened(self, sealer: &Sealer) -> JobsResult<StepBindings> {
        self.with_values(|values| sealer.open_values(values))
    }

    /// The bindings with each set of values (the parameters, each app-config group's configs)
    /// replaced by what `change` makes of it.
    fn with_values(
        mut self,
        change: impl Fn(Value) -> JobsResult<Value>,
    ) -> JobsResult<StepBindings> {
        if let Some(values) = self.config_value.take() {
            self.config_value = Some(change(values)?);
        }
        if let Some(binding) = self.actemplates.as_mut() {
            for group in &mut binding.groups {
                group.configs = change(group.configs.take())?;
            }
        }
        Ok(self)
    }

    /// The stored JSON document of these bindings (values sealed).
    pub(crate) fn document(self, sealer: &Sealer) -> JobsResult<String> {
        serde_json::to_string(&self.sealed(sealer)?).map_err(|error| JobsError::Invalid {
            field: "bindings",
            message: error.to_string(),
        })
    }
}

/// How many rows [`seal_plaintext_rows`] sealed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SealedRows {
    pub steps: usize,
    pub snapshots: usize,
}

/// Seals the values of step bindings and the run snapshots written before values were sealed.
/// Each row is replaced only if it is still what was read, so a concurrent write wins.
pub async fn seal_plaintext_rows(database: &Database, sealer: &Sealer) -> JobsResult<SealedRows> {
    let sealer = sealer.clone();
    let sealed = database
        .run(move |connection| {
            let mut sealed = SealedRows::default();
            for step in instances::steps_with_plain_values(connection)? {
                let bindings: StepBindings = serde_json::from_str(&step.bindings)
                    .map_err(|error| sealing("step bindings", "read", error))?;
                let document = bindings.document(&sealer)?;
                if document != step.bindings
                    && instances::replace_bindings(connection, &step, &document)?
                {
                    sealed.steps += 1;
                }
            }
            for step in runs::steps_with_plain_snapshots(connection)? {
                let snapshot = sealer.seal_snapshot(&step.snapshot)?;
                if runs::replace_plain_snapshot(connection, &step, &snapshot)? {
                    sealed.snapshots += 1;
                }
            }
            Ok::<_, JobsError>(sealed)
        })
        .await?;
    if sealed != SealedRows::default() {
        tracing::info!(
            steps = sealed.steps,
            snapshots = sealed.snapshots,
            "sealed the values of rows written before sealing"
        );
    }
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sealer() -> Sealer {
        Sealer::new(
            CredentialCipher::from_hex_key(
                b"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            )
            .expect("key"),
        )
    }

    #[test]
    fn values_seal_once_and_open_and_plain_values_read_as_they_are() {
        let sealer = sealer();
        let values = json!({"node": "db-Secret-1"});
        let sealed = sealer.seal_values(values.clone()).expect("seal");
        let text = sealed.as_str().expect("a sealed string");
        assert!(text.starts_with("v1:") && !text.contains("db-Secret-1"));
        assert_eq!(sealer.seal_values(sealed.clone()).expect("kept"), sealed);
        assert_eq!(sealer.open_values(sealed).expect("open"), values);
        assert_eq!(sealer.open_values(values.clone()).expect("plain"), values);
        let snapshot = sealer.seal_snapshot("{}").expect("seal");
        assert!(matches!(
            sealer.open_values(Value::String(snapshot)),
            Err(JobsError::Sealing { .. })
        ));
    }
}
