//! Pure legacy-JSON ⇄ proto conversions, one module per contract area.

pub mod catalog;
pub mod resource;
