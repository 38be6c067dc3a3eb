//! A JQL subset with a real parser: lexer, parser, checked query, matching and ordering.
//!
//! Fields: `project`, `labels`, `status`, `statusCategory`, `issuetype` (`type`), `key` (`issuekey`,
//! `issue`, `id`), `assignee`, `summary` (`~` only), `created`, `updated`. Operators: `=`, `!=`,
//! `IN`, `NOT IN`, `IS [NOT] EMPTY`, `<`, `<=`, `>`, `>=` (dates and keys), `~`, `!~` (summary).
//! `AND`, `OR`, `NOT` and parentheses; `EMPTY`/`NULL`; dates as `"2026-01-31"`, `"2026/01/31 12:30"`
//! or periods `-5m`, `-1h`, `-2d`, `-1w`, `"4w 2d"`; `now()` and `currentUser()`; `ORDER BY`.
//! Anything else is refused with Jira's own message.

mod ast;
mod error;
mod eval;
mod fields;
mod lexer;
mod order;
mod parser;
mod resolve;
mod time;

#[cfg(test)]
mod tests;

pub use ast::{NamedValue, Query};
pub use error::JqlError;
pub use fields::{JqlFields, JqlValue};

/// Parses and checks a JQL query.
pub fn parse(jql: &str) -> Result<Query, JqlError> {
    resolve::resolve(parser::parse_syntax(jql)?)
}
