//! A checked JQL query: every field known, every operator allowed for its field, every value read.

use jiff::{SignedDuration, Timestamp};

use super::fields::Field;

/// A parsed and checked JQL query, ready to match and order issues.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub(super) clause: Option<Clause>,
    pub(super) order_by: Vec<SortKey>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Clause {
    And(Vec<Clause>),
    Or(Vec<Clause>),
    Not(Box<Clause>),
    Terminal(Terminal),
}

/// One `field operator operand` comparison.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Terminal {
    pub field: Field,
    /// The field as the query spelled it, for messages about it.
    pub written: String,
    pub operator: Operator,
    /// One operand, or the members of an `IN` list.
    pub operands: Vec<Operand>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Operator {
    Equals,
    NotEquals,
    In,
    NotIn,
    Is,
    IsNot,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Contains,
    NotContains,
}

impl Operator {
    /// The operator as Jira names it in messages.
    pub fn display(self) -> &'static str {
        match self {
            Operator::Equals => "=",
            Operator::NotEquals => "!=",
            Operator::In => "in",
            Operator::NotIn => "not in",
            Operator::Is => "is",
            Operator::IsNot => "is not",
            Operator::Less => "<",
            Operator::LessOrEqual => "<=",
            Operator::Greater => ">",
            Operator::GreaterOrEqual => ">=",
            Operator::Contains => "~",
            Operator::NotContains => "!~",
        }
    }

    /// The operator that holds exactly when this one does not (on a non-empty field), which is
    /// how Jira reads `NOT field op value`.
    pub fn negated(self) -> Operator {
        match self {
            Operator::Equals => Operator::NotEquals,
            Operator::NotEquals => Operator::Equals,
            Operator::In => Operator::NotIn,
            Operator::NotIn => Operator::In,
            Operator::Is => Operator::IsNot,
            Operator::IsNot => Operator::Is,
            Operator::Less => Operator::GreaterOrEqual,
            Operator::LessOrEqual => Operator::Greater,
            Operator::Greater => Operator::LessOrEqual,
            Operator::GreaterOrEqual => Operator::Less,
            Operator::Contains => Operator::NotContains,
            Operator::NotContains => Operator::Contains,
        }
    }

    pub fn is_relational(self) -> bool {
        matches!(
            self,
            Operator::Less | Operator::LessOrEqual | Operator::Greater | Operator::GreaterOrEqual
        )
    }

    pub fn takes_list(self) -> bool {
        matches!(self, Operator::In | Operator::NotIn)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Operand {
    Empty,
    Text(String),
    Moment(Moment),
    /// `currentUser()`: the caller, whoever runs the search.
    CurrentUser,
}

/// An instant a query names: fixed, or relative to the time of the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Moment {
    At(Timestamp),
    FromNow(SignedDuration),
}

impl Moment {
    pub fn resolve(self, now: Timestamp) -> Option<Timestamp> {
        match self {
            Moment::At(at) => Some(at),
            Moment::FromNow(offset) => now.checked_add(offset).ok(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    Ascending,
    Descending,
}

/// One `ORDER BY` term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SortKey {
    pub field: Field,
    pub direction: Direction,
}

/// A text value a query compares a field with, for the store to check that it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedValue {
    /// The field's lower-case name, as [`super::JqlFields::values`] takes it.
    pub field: &'static str,
    /// The field as the query spelled it, for Jira's message.
    pub written_field: String,
    /// The value as the query gave it.
    pub value: String,
    /// Whether it is one of an `IN` / `NOT IN` list (Cloud answers `key in (...)` with the issues
    /// it finds, where `key = ...` of a missing issue is an error).
    pub in_list: bool,
}

impl Query {
    /// Whether the query restricts the search at all; Cloud's `/search/jql` refuses one that
    /// does not (see [`super::JqlError::unbounded`]).
    pub fn is_bounded(&self) -> bool {
        self.clause.is_some()
    }

    /// Every text value the query compares a named field or key with (not dates, not summary
    /// text), so the store can refuse values it has not got, as Jira does.
    pub fn named_values(&self) -> Vec<NamedValue> {
        let mut found = Vec::new();
        if let Some(clause) = &self.clause {
            collect_named_values(clause, &mut found);
        }
        found
    }
}

fn collect_named_values(clause: &Clause, found: &mut Vec<NamedValue>) {
    match clause {
        Clause::And(parts) | Clause::Or(parts) => {
            parts
                .iter()
                .for_each(|part| collect_named_values(part, found));
        }
        Clause::Not(inner) => collect_named_values(inner, found),
        Clause::Terminal(terminal) if terminal.field != Field::Summary => {
            for operand in &terminal.operands {
                if let Operand::Text(value) = operand {
                    found.push(NamedValue {
                        field: terminal.field.name(),
                        written_field: terminal.written.clone(),
                        value: value.clone(),
                        in_list: terminal.operator.takes_list(),
                    });
                }
            }
        }
        Clause::Terminal(_) => {}
    }
}
