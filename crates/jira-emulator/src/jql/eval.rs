//! Decides whether an issue matches a query, with Jira's rules for empty fields and `NOT`.

use jiff::Timestamp;

use super::ast::{Clause, Operand, Operator, Query, Terminal};
use super::fields::{FieldKind, JqlFields, JqlValue};
use super::order::IssueKey;

/// What a search knows besides the issue: when it runs and who runs it.
#[derive(Clone, Copy)]
struct Context<'a> {
    now: Timestamp,
    current_user: Option<&'a str>,
}

impl Query {
    /// Whether the issue matches the query's `WHERE` part, with relative dates counted from `now`.
    /// `currentUser()` matches no one: use [`Query::matches_as`] for a signed-in caller.
    pub fn matches(&self, issue: &impl JqlFields, now: Timestamp) -> bool {
        self.matches_as(issue, now, None)
    }

    /// Like [`Query::matches`], with `currentUser()` standing for `current_user` (an account id).
    pub fn matches_as(
        &self,
        issue: &impl JqlFields,
        now: Timestamp,
        current_user: Option<&str>,
    ) -> bool {
        let context = Context { now, current_user };
        self.clause
            .as_ref()
            .is_none_or(|clause| holds(clause, issue, context, false))
    }
}

/// Jira reads `NOT` by pushing it down to the comparisons (`NOT a = 1` is `a != 1`), so a negated
/// comparison still never matches an empty field.
fn holds(clause: &Clause, issue: &impl JqlFields, context: Context, negated: bool) -> bool {
    match clause {
        Clause::And(parts) if negated => parts.iter().any(|c| holds(c, issue, context, true)),
        Clause::And(parts) => parts.iter().all(|c| holds(c, issue, context, false)),
        Clause::Or(parts) if negated => parts.iter().all(|c| holds(c, issue, context, true)),
        Clause::Or(parts) => parts.iter().any(|c| holds(c, issue, context, false)),
        Clause::Not(inner) => holds(inner, issue, context, !negated),
        Clause::Terminal(terminal) => {
            let operator = if negated {
                terminal.operator.negated()
            } else {
                terminal.operator
            };
            compares(terminal, operator, issue, context)
        }
    }
}

fn compares(
    terminal: &Terminal,
    operator: Operator,
    issue: &impl JqlFields,
    context: Context,
) -> bool {
    let values = issue.values(terminal.field.name());
    let kind = terminal.field.kind();
    let any_equal = || {
        values.iter().any(|value| {
            terminal
                .operands
                .iter()
                .any(|operand| equals(value, operand, context))
        })
    };
    match operator {
        Operator::Is => values.is_empty(),
        Operator::IsNot => !values.is_empty(),
        Operator::Equals | Operator::In => {
            (values.is_empty() && terminal.operands.contains(&Operand::Empty)) || any_equal()
        }
        Operator::NotEquals | Operator::NotIn => !values.is_empty() && !any_equal(),
        Operator::Contains => values.iter().any(|v| contains(v, &terminal.operands)),
        Operator::NotContains => {
            !values.is_empty() && !values.iter().any(|v| contains(v, &terminal.operands))
        }
        Operator::Less | Operator::LessOrEqual | Operator::Greater | Operator::GreaterOrEqual => {
            values.iter().any(|value| {
                terminal
                    .operands
                    .iter()
                    .any(|operand| relates(kind, value, operand, operator, context))
            })
        }
    }
}

fn equals(value: &JqlValue, operand: &Operand, context: Context) -> bool {
    match (value, operand) {
        (JqlValue::Text(text), Operand::Text(wanted)) => same_text(text, wanted),
        (JqlValue::Text(text), Operand::CurrentUser) => context
            .current_user
            .is_some_and(|user| same_text(text, user)),
        (JqlValue::Time(at), Operand::Moment(moment)) => moment.resolve(context.now) == Some(*at),
        _ => false,
    }
}

fn same_text(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

fn relates(
    kind: FieldKind,
    value: &JqlValue,
    operand: &Operand,
    operator: Operator,
    context: Context,
) -> bool {
    let ordering = match (kind, value, operand) {
        (FieldKind::Time, JqlValue::Time(at), Operand::Moment(moment)) => {
            moment.resolve(context.now).map(|bound| at.cmp(&bound))
        }
        // Issue keys order within one project only, as Jira's `issuekey > SEC-5` does.
        (FieldKind::Key, JqlValue::Text(text), Operand::Text(wanted)) => {
            match (IssueKey::parse(text), IssueKey::parse(wanted)) {
                (Some(have), Some(bound)) if have.project == bound.project => {
                    Some(have.number.cmp(&bound.number))
                }
                _ => None,
            }
        }
        _ => None,
    };
    ordering.is_some_and(|ordering| match operator {
        Operator::Less => ordering.is_lt(),
        Operator::LessOrEqual => ordering.is_le(),
        Operator::Greater => ordering.is_gt(),
        _ => ordering.is_ge(),
    })
}

/// Jira's text search, simplified: every word of the query must be a word of the text, ignoring
/// case; a word ending in `*` matches any word it begins.
fn contains(value: &JqlValue, operands: &[Operand]) -> bool {
    let JqlValue::Text(text) = value else {
        return false;
    };
    let words: Vec<String> = split_words(text, false);
    operands.iter().any(|operand| {
        let Operand::Text(query) = operand else {
            return false;
        };
        let wanted = split_words(query, true);
        !wanted.is_empty()
            && wanted.iter().all(|term| match term.strip_suffix('*') {
                Some(prefix) => words.iter().any(|w| w.starts_with(prefix)),
                None => words.iter().any(|w| w == term),
            })
    })
}

fn split_words(text: &str, keep_wildcard: bool) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || keep_wildcard && c == '*'))
        .filter(|w| !w.is_empty() && *w != "*")
        .map(str::to_lowercase)
        .collect()
}
