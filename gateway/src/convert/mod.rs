//! Pure legacy-JSON ⇄ proto conversions, one module per contract area.

pub mod artifact;
pub mod catalog;
