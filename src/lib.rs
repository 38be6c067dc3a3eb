//! Jira Active Sync: keeps Jira tickets in step with compliance tasks.

pub mod api;
pub mod cli;
pub mod controller;
pub mod jira;
pub mod planner;
pub mod sources;
