//! Harness for tests of stored files (unit, service and end-to-end tests alike): every file
//! below a directory, so that a test can assert what a local store or a spool directory holds.

use std::path::{Path, PathBuf};

/// Every file below `root`, at any depth (none when `root` does not exist).
pub fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(root) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(files_under(&path));
            } else {
                found.push(path);
            }
        }
    }
    found
}
