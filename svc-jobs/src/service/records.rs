//! The records the rules answer with and the filters they take, as the gRPC adapter sees them:
//! it talks to the rules only and never reaches into `db` or `execution`.

pub use crate::db::models::{
    approvals::{ApprovalFilter, ApprovalRow},
    instances::InstanceFilter,
    joint_lines::JointLineRow,
    runs::EventRow,
    schedules::ScheduleRow,
    work_orders::WorkOrderRow,
};
pub use crate::execution::{Mode, RunTree, joint::JointTree};
