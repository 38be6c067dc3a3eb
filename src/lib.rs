//! Jira Active Sync: keeps Jira tickets in step with compliance tasks.

pub mod emulator;
