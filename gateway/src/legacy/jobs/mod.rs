//! Deployment configuration of contract sections 1, 4, 5 and 7, one module per area: job
//! templates, job instances (with work orders and a step's cluster), joint lines, and what is
//! bound to a step (read back and saved). Shared here: the name/application query and the step URL.

mod instances;
mod joint_lines;
mod step_reads;
mod step_writes;
mod templates;

use actix_web::web;
use proto::jobs::v1 as pb;
use serde::Deserialize;

use super::{Answer, IdPath, ok, ok_each};
pub use instances::*;
pub use joint_lines::*;
pub use step_reads::*;
pub use step_writes::*;
pub use templates::*;

/// The `{sequence}` segment of a step URL: a failure names it when it is not a number.
#[derive(Debug, Clone, Copy)]
pub struct Sequence(u32);

impl<'de> Deserialize<'de> for Sequence {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map(Sequence).map_err(|_| {
            serde::de::Error::custom(format!("sequence {text:?} is not a non-negative integer"))
        })
    }
}

fn step_ref(path: (String, String, Sequence)) -> pb::StepRef {
    let (instance_id, method_id, Sequence(sequence)) = path;
    pb::StepRef {
        instance_id,
        method_id,
        sequence,
    }
}

/// The `{id}/{cpm_id}/{sequence}` segments of a step URL.
type StepPath = web::Path<(String, String, Sequence)>;
