//! Temporary stand-in for the JQL module being written on the `emulator-parts` branch: only
//! `field = value` and `field IN (...)` joined by AND. Replaced by `emulator::jql` when it lands.

use std::cmp::Ordering;

use jiff::Timestamp;

/// A field value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JqlValue {
    /// Text.
    Text(String),
    /// Instant.
    Time(Timestamp),
}

/// Field access.
pub trait JqlFields {
    /// Values of a lower-case field.
    fn values(&self, field: &str) -> Vec<JqlValue>;
}

/// A refused query.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct JqlError(String);

impl JqlError {
    /// Messages.
    pub fn messages(&self) -> Vec<String> {
        vec![self.0.clone()]
    }

    /// Unknown value.
    pub fn value_does_not_exist(field: &str, value: &str) -> Self {
        JqlError(format!(
            "The value '{value}' does not exist for the field '{field}'."
        ))
    }

    /// Unknown issue.
    pub fn issue_does_not_exist() -> Self {
        JqlError("Issue does not exist or you do not have permission to see it.".into())
    }

    /// Unbounded query.
    pub fn unbounded() -> Self {
        JqlError("Unbounded JQL queries are not allowed here. Please add a search restriction to your query.".into())
    }
}

/// A value named by the query.
#[derive(Debug, Clone)]
pub struct NamedValue {
    /// Field.
    pub field: &'static str,
    /// Field as written.
    pub written_field: String,
    /// Value.
    pub value: String,
}

/// A parsed query.
#[derive(Debug, Clone)]
pub struct Query(Vec<(String, Vec<String>)>);

/// Parses the subset.
pub fn parse(jql: &str) -> Result<Query, JqlError> {
    let lower = jql.to_lowercase();
    let where_part = lower.find("order by").map_or(jql, |i| &jql[..i]);
    let mut terms = Vec::new();
    for term in where_part
        .split(" AND ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let (field, values) =
            if let Some((f, v)) = term.split_once(" in ").or_else(|| term.split_once(" IN ")) {
                (
                    f,
                    v.trim()
                        .trim_start_matches('(')
                        .trim_end_matches(')')
                        .split(',')
                        .map(|s| s.trim().trim_matches('"').to_owned())
                        .collect(),
                )
            } else if let Some((f, v)) = term.split_once('=') {
                (f, vec![v.trim().trim_matches('"').to_owned()])
            } else {
                return Err(JqlError(format!(
                    "Error in the JQL Query: cannot read '{term}'"
                )));
            };
        terms.push((field.trim().to_lowercase(), values));
    }
    Ok(Query(terms))
}

impl Query {
    /// Whether restricted.
    pub fn is_bounded(&self) -> bool {
        !self.0.is_empty()
    }

    /// Values named.
    pub fn named_values(&self) -> Vec<NamedValue> {
        Vec::new()
    }

    /// Matching.
    pub fn matches_as(&self, issue: &impl JqlFields, _now: Timestamp, _user: Option<&str>) -> bool {
        self.0.iter().all(|(field, wanted)| {
            issue.values(field).iter().any(|v| match v {
                JqlValue::Text(t) => wanted.iter().any(|w| w.eq_ignore_ascii_case(t)),
                JqlValue::Time(_) => false,
            })
        })
    }

    /// Ordering: newest key first.
    pub fn compare(&self, _a: &impl JqlFields, _b: &impl JqlFields) -> Ordering {
        Ordering::Equal
    }
}
