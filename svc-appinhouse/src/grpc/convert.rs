//! The appinhouse builds as proto messages.

use common::time::to_unix_ms;
use proto::appinhouse::v1 as pb;

use crate::service::reads::BuildView;

impl From<BuildView> for pb::Build {
    fn from(view: BuildView) -> pb::Build {
        let BuildView {
            row,
            down,
            extends,
            details,
            icon_path,
        } = view;
        pb::Build {
            size: details.size_bytes,
            bundle_id: row.bundle_identifier.clone(),
            version_code: details.version_code,
            min_os: details.min_os,
            label: details.label,
            icon_path,
            installs: details.installs,
            platform: row.platform,
            version: row.version,
            time_ms: to_unix_ms(row.build_time),
            given_offset_minutes: row.given_offset_minutes,
            description: row.description,
            url: row.url,
            down,
            extends: extends
                .into_iter()
                .map(|extend| pb::Extend {
                    key: extend.key,
                    name: extend.name,
                    down: extend.down,
                })
                .collect(),
            software_url: row.software_url,
        }
    }
}
