//! The Jira emulator: an in-memory Jira that speaks Cloud REST v3 and Data Center REST v2.

pub mod jql;
pub mod rate_limit;
pub mod webhooks;
