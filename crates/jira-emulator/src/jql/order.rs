//! Orders issues by a query's `ORDER BY`, falling back on Jira's default: newest key first.

use std::cmp::Ordering;

use jiff::Timestamp;

use super::ast::{Direction, Query};
use super::fields::{Field, FieldKind, JqlFields, JqlValue};

/// An issue key split into its project and number, so that `SEC-10` sorts after `SEC-9`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct IssueKey {
    pub project: String,
    pub number: u64,
}

impl IssueKey {
    pub fn parse(text: &str) -> Option<IssueKey> {
        let (project, number) = text.rsplit_once('-')?;
        if project.is_empty() {
            return None;
        }
        Some(IssueKey {
            project: project.to_uppercase(),
            number: number.parse().ok()?,
        })
    }
}

/// The value an issue sorts by for one field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SortValue {
    Key(IssueKey),
    Time(Timestamp),
    Text(String),
}

impl Query {
    /// Orders two issues as the query's `ORDER BY` does. Issues alike on every term, and all
    /// issues when there is no `ORDER BY`, come newest key first (`key DESC`), as Jira's
    /// search answers them. An empty field sorts after every value ascending, before descending.
    pub fn compare(&self, a: &impl JqlFields, b: &impl JqlFields) -> Ordering {
        self.order_by
            .iter()
            .map(|key| {
                let ordering = compare_field(key.field, a, b);
                match key.direction {
                    Direction::Ascending => ordering,
                    Direction::Descending => ordering.reverse(),
                }
            })
            .find(|ordering| ordering.is_ne())
            .unwrap_or_else(|| compare_field(Field::Key, a, b).reverse())
    }
}

fn compare_field(field: Field, a: &impl JqlFields, b: &impl JqlFields) -> Ordering {
    match (sort_value(field, a), sort_value(field, b)) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The value to sort on: the first key or instant; for names, the first value (a field's primary
/// name comes first), and for labels the least one.
fn sort_value(field: Field, issue: &impl JqlFields) -> Option<SortValue> {
    let values = issue.values(field.name());
    match field.kind() {
        FieldKind::Key => values.iter().find_map(|v| match v {
            JqlValue::Text(text) => IssueKey::parse(text).map(SortValue::Key),
            JqlValue::Time(_) => None,
        }),
        FieldKind::Time => values.iter().find_map(|v| match v {
            JqlValue::Time(at) => Some(SortValue::Time(*at)),
            JqlValue::Text(_) => None,
        }),
        FieldKind::Named | FieldKind::Text => {
            let mut texts = values.iter().filter_map(|v| match v {
                JqlValue::Text(text) => Some(text.to_lowercase()),
                JqlValue::Time(_) => None,
            });
            if field == Field::Labels {
                texts.min().map(SortValue::Text)
            } else {
                texts.next().map(SortValue::Text)
            }
        }
    }
}
