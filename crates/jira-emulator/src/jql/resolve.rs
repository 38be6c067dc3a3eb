//! Checks a syntax tree against the fields this emulator knows: the field exists, takes the
//! operator, and every value reads as that field's kind. Reports every problem at once, as Jira does.

use super::ast::{Clause, Direction, Operand, Operator, Query, SortKey, Terminal};
use super::error::JqlError;
use super::fields::{Field, FieldKind};
use super::parser::{RawClause, RawOperand, Syntax};
use super::time::parse_moment;

/// Turns a syntax tree into a checked query.
pub(super) fn resolve(syntax: Syntax) -> Result<Query, JqlError> {
    let mut errors = Vec::new();
    let clause = syntax
        .clause
        .and_then(|clause| resolve_clause(clause, &mut errors));
    let order_by = syntax
        .order_by
        .into_iter()
        .filter_map(|key| match Field::from_name(&key.field) {
            Some(field) => Some(SortKey {
                field,
                direction: key.direction.unwrap_or_else(|| default_direction(field)),
            }),
            None => {
                errors.push(JqlError::unknown_field(&key.field));
                None
            }
        })
        .collect();
    match JqlError::combine(errors) {
        Some(error) => Err(error),
        None => Ok(Query { clause, order_by }),
    }
}

/// Jira sorts dates newest first unless told otherwise, everything else ascending.
fn default_direction(field: Field) -> Direction {
    match field.kind() {
        FieldKind::Time => Direction::Descending,
        _ => Direction::Ascending,
    }
}

fn resolve_clause(clause: RawClause, errors: &mut Vec<JqlError>) -> Option<Clause> {
    match clause {
        RawClause::And(parts) => resolve_all(parts, errors).map(Clause::And),
        RawClause::Or(parts) => resolve_all(parts, errors).map(Clause::Or),
        RawClause::Not(inner) => resolve_clause(*inner, errors).map(|c| Clause::Not(Box::new(c))),
        RawClause::Terminal {
            field,
            operator,
            operand,
        } => match resolve_terminal(field, operator, operand) {
            Ok(terminal) => Some(Clause::Terminal(terminal)),
            Err(error) => {
                errors.push(error);
                None
            }
        },
    }
}

/// Resolves every part, so that each reports its errors, and yields them only if all resolved.
fn resolve_all(parts: Vec<RawClause>, errors: &mut Vec<JqlError>) -> Option<Vec<Clause>> {
    let resolved: Vec<Option<Clause>> = parts
        .into_iter()
        .map(|part| resolve_clause(part, errors))
        .collect();
    resolved.into_iter().collect()
}

fn supports(kind: FieldKind, operator: Operator) -> bool {
    use Operator::*;
    match kind {
        FieldKind::Named => matches!(operator, Equals | NotEquals | In | NotIn | Is | IsNot),
        FieldKind::Key => !matches!(operator, Is | IsNot | Contains | NotContains),
        FieldKind::Time => !matches!(operator, Contains | NotContains),
        FieldKind::Text => matches!(operator, Contains | NotContains | Is | IsNot),
    }
}

fn resolve_terminal(
    written: String,
    operator: Operator,
    operand: RawOperand,
) -> Result<Terminal, JqlError> {
    let field = Field::from_name(&written).ok_or_else(|| JqlError::unknown_field(&written))?;
    if !supports(field.kind(), operator) {
        return Err(JqlError::unsupported_operator(operator.display(), &written));
    }
    let raw_operands = match operand {
        RawOperand::List(members) if operator.takes_list() => members,
        RawOperand::List(_) => {
            return Err(JqlError::list_not_supported(operator.display(), &written));
        }
        function @ RawOperand::Function { .. } => vec![function],
        RawOperand::Value(value) if operator.takes_list() => {
            return Err(JqlError::list_required(
                operator.display(),
                &value,
                &written,
            ));
        }
        single => vec![single],
    };
    let operands = raw_operands
        .into_iter()
        .map(|operand| resolve_operand(field, &written, operator, operand))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Terminal {
        field,
        written,
        operator,
        operands,
    })
}

fn resolve_operand(
    field: Field,
    written: &str,
    operator: Operator,
    operand: RawOperand,
) -> Result<Operand, JqlError> {
    let is_empty_check = matches!(operator, Operator::Is | Operator::IsNot);
    match operand {
        RawOperand::Empty
            if operator.is_relational() || field.kind() == FieldKind::Text && !is_empty_check =>
        {
            Err(JqlError::empty_not_supported(operator.display(), written))
        }
        RawOperand::Empty => Ok(Operand::Empty),
        _ if is_empty_check => Err(JqlError::empty_only(operator.display(), written)),
        RawOperand::Function { name, arguments } => {
            resolve_function(field, written, &name, arguments.len())
        }
        RawOperand::Value(value) => resolve_value(field, written, value),
        RawOperand::List(_) => Err(JqlError::list_not_supported(operator.display(), written)),
    }
}

fn resolve_function(
    field: Field,
    written: &str,
    name: &str,
    argument_count: usize,
) -> Result<Operand, JqlError> {
    let (canonical, fits) = match name.to_ascii_lowercase().as_str() {
        "now" => ("now", field.kind() == FieldKind::Time),
        "currentuser" => ("currentUser", field.holds_users()),
        _ => return Err(JqlError::unknown_function(name)),
    };
    if argument_count != 0 {
        return Err(JqlError::function_arguments(canonical, argument_count));
    }
    if !fits {
        return Err(JqlError::function_invalid_for_field(canonical, written));
    }
    Ok(match canonical {
        "now" => Operand::Moment(super::ast::Moment::FromNow(jiff::SignedDuration::ZERO)),
        _ => Operand::CurrentUser,
    })
}

fn resolve_value(field: Field, written: &str, value: String) -> Result<Operand, JqlError> {
    match field.kind() {
        FieldKind::Time => parse_moment(&value)
            .map(Operand::Moment)
            .ok_or_else(|| JqlError::invalid_date(&value, written)),
        FieldKind::Key if !is_issue_key_or_id(&value) => {
            Err(JqlError::invalid_issue_key(&value, written))
        }
        _ => Ok(Operand::Text(value)),
    }
}

/// `PROJ-123`, or a numeric issue id.
fn is_issue_key_or_id(value: &str) -> bool {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let Some((project, number)) = value.rsplit_once('-') else {
        return false;
    };
    project
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && project
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::super::parse;

    fn error(jql: &str) -> String {
        parse(jql).unwrap_err().to_string()
    }

    #[test]
    fn refuses_unknown_fields_as_written() {
        assert_eq!(
            error("colour = red"),
            "Field 'colour' does not exist or you do not have permission to view it."
        );
        assert_eq!(
            error("project = LAUNCH ORDER BY zzfield"),
            "Field 'zzfield' does not exist or you do not have permission to view it."
        );
    }

    #[test]
    fn reports_every_problem_at_once() {
        let err = parse("colour = red AND shape = round ORDER BY size2").unwrap_err();
        assert_eq!(
            err.messages(),
            [
                "Field 'colour' does not exist or you do not have permission to view it.",
                "Field 'shape' does not exist or you do not have permission to view it.",
                "Field 'size2' does not exist or you do not have permission to view it.",
            ]
        );
    }

    #[test]
    fn refuses_operators_a_field_does_not_take() {
        assert_eq!(
            error("summary = export"),
            "The operator '=' is not supported by the 'summary' field."
        );
        assert_eq!(
            error("project > SEC"),
            "The operator '>' is not supported by the 'project' field."
        );
        assert_eq!(
            error("labels ~ x"),
            "The operator '~' is not supported by the 'labels' field."
        );
        assert_eq!(
            error("key is EMPTY"),
            "The operator 'is' is not supported by the 'key' field."
        );
        assert_eq!(
            error("created ~ x"),
            "The operator '~' is not supported by the 'created' field."
        );
        assert!(parse("key > SEC-5").is_ok());
        assert!(parse("summary ~ export").is_ok());
        assert!(parse("summary is not EMPTY").is_ok());
    }

    #[test]
    fn refuses_dates_jira_cannot_read() {
        let formats = "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', \
                       'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.";
        assert_eq!(
            error("updated >= yesterday"),
            format!("Date value 'yesterday' for field 'updated' is invalid. {formats}")
        );
        assert_eq!(
            error("createdDate = 2026-02-30"),
            format!("Date value '2026-02-30' for field 'createdDate' is invalid. {formats}")
        );
        assert!(parse("updated >= -5d AND created < \"2026-01-31 12:30\" AND updated in (-1h, \"2026/01/01\")").is_ok());
    }

    #[test]
    fn checks_functions() {
        assert_eq!(
            error("assignee = noSuchFunction()"),
            "Unable to find JQL function 'noSuchFunction()'."
        );
        assert_eq!(
            error("status = currentUser()"),
            "A value provided by the function 'currentUser' is invalid for the field 'status'."
        );
        assert_eq!(
            error("project = now()"),
            "A value provided by the function 'now' is invalid for the field 'project'."
        );
        assert!(error("updated > now(1)").contains("expected '0' arguments"));
        assert!(parse("assignee = currentUser() AND updated <= NOW()").is_ok());
        assert!(parse("assignee in currentUser()").is_ok());
        assert!(parse("assignee in (currentUser(), EMPTY)").is_ok());
    }

    #[test]
    fn checks_lists_and_empty() {
        assert_eq!(
            error("project = (SEC, OPS)"),
            "The operator '=' does not support multiple values for the field 'project'."
        );
        assert_eq!(
            error("project in SEC"),
            "The operator 'in' does not support the non-list value 'SEC' for field 'project'."
        );
        assert!(error("status is Done").contains("only supports searching for EMPTY"));
        assert!(error("updated > EMPTY").contains("does not support searching for EMPTY"));
        assert!(error("summary ~ EMPTY").contains("does not support searching for EMPTY"));
        assert!(parse("assignee = EMPTY OR assignee != null OR labels in (EMPTY, a)").is_ok());
    }

    #[test]
    fn checks_issue_keys() {
        assert_eq!(
            error("key = foo"),
            "The issue key 'foo' for field 'key' is invalid."
        );
        assert_eq!(
            error("issuekey in (SEC-1, -3)"),
            "The issue key '-3' for field 'issuekey' is invalid."
        );
        assert!(parse("key in (SEC-1, OPS_2-10, 10001)").is_ok());
    }
}
