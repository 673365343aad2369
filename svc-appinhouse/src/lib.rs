//! svc-appinhouse: the in-house app distribution service (SPEC §6); filled by the appinhouse issue.
