//! The console's message catalogues, one module per page family (the frame's, the login page's
//! and the dashboard's are in `i18n.rs`). Data only: a page's module does not import them, its
//! template asks for a message by key (`t.key`) and [`super::i18n::Lang::messages`] merges them.

pub mod approvals;
pub mod apps;
pub mod audit;
pub mod failure;
pub mod resources;
pub mod review;
pub mod run;

/// A page's messages: key, English, 简体中文. One line per key, so a language cannot miss one.
pub type Catalogue = &'static [(&'static str, &'static str, &'static str)];
