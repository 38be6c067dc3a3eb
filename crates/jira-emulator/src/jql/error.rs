//! The error a JQL query earns, worded as Jira words it.

use super::lexer::Position;

/// Why Jira refuses a JQL query: one or more sentences, each exactly as Jira puts it into
/// `errorMessages` of its 400 answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .messages.join(" "))]
pub struct JqlError {
    messages: Vec<String>,
}

/// The tail Jira appends to every message about a date it cannot read.
const DATE_FORMATS: &str = "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', \
                            'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.";

/// The operators Jira lists when it cannot find one.
const VALID_OPERATORS: &str = "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', \
                               'IN', 'NOT IN', 'IS' and 'IS NOT'.";

impl JqlError {
    /// Every sentence, one per entry of Jira's `errorMessages`.
    pub fn messages(&self) -> &[String] {
        &self.messages
    }

    /// Joins the errors of several clauses, as Jira reports them all at once.
    pub(super) fn combine(errors: Vec<JqlError>) -> Option<JqlError> {
        let messages: Vec<String> = errors.into_iter().flat_map(|e| e.messages).collect();
        (!messages.is_empty()).then_some(JqlError { messages })
    }

    fn one(message: String) -> Self {
        JqlError {
            messages: vec![message],
        }
    }

    fn syntax(detail: &str, at: Position) -> Self {
        Self::one(format!(
            "Error in the JQL Query: {detail} (line {}, character {})",
            at.line, at.character
        ))
    }

    /// A query without a search restriction, which Cloud's `/search/jql` refuses.
    pub fn unbounded() -> Self {
        Self::one(
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
                .to_owned(),
        )
    }

    /// A value the site has not got (an unknown project, status, user...), named as the query wrote it.
    pub fn value_does_not_exist(field: &str, value: &str) -> Self {
        Self::one(format!(
            "The value '{value}' does not exist for the field '{field}'."
        ))
    }

    /// An issue key that names no issue the caller can see, as Data Center words it.
    pub fn issue_key_does_not_exist(field: &str, key: &str) -> Self {
        Self::one(format!(
            "An issue with key '{key}' does not exist for field '{field}'."
        ))
    }

    /// An issue key that names no issue the caller can see, as Cloud words it.
    pub fn issue_does_not_exist() -> Self {
        Self::one("Issue does not exist or you do not have permission to see it.".to_owned())
    }

    pub(super) fn unterminated_string(content: &str, at: Position) -> Self {
        Self::syntax(
            &format!("The quoted string '{content}' has not been completed."),
            at,
        )
    }

    pub(super) fn reserved_character(c: char, at: Position) -> Self {
        Self::syntax(
            &format!(
                "The character '{c}' is a reserved JQL character. You must enclose it in a string \
                 or use the escape '\\u{:04x}' instead.",
                u32::from(c)
            ),
            at,
        )
    }

    pub(super) fn illegal_escape(sequence: &str, at: Position) -> Self {
        Self::syntax(&format!("The escape sequence '{sequence}' is illegal."), at)
    }

    pub(super) fn reserved_word(word: &str, at: Position) -> Self {
        Self::syntax(
            &format!(
                "'{word}' is a reserved JQL word. You must surround it in quotation marks to use it in a query."
            ),
            at,
        )
    }

    pub(super) fn expecting_field(got: &str, at: Position) -> Self {
        Self::syntax(
            &format!(
                "Expecting a field name but got '{got}'. You must surround '{got}' in quotation marks to use it as a field name."
            ),
            at,
        )
    }

    pub(super) fn expecting_field_at_end() -> Self {
        Self::one(
            "Error in the JQL Query: Expecting a field name at the end of the query.".to_owned(),
        )
    }

    pub(super) fn expecting_operator(got: &str, at: Position) -> Self {
        Self::syntax(
            &format!("Expecting operator but got '{got}'. {VALID_OPERATORS}"),
            at,
        )
    }

    pub(super) fn expecting_operator_at_end() -> Self {
        Self::one(format!(
            "Error in the JQL Query: Expecting operator before the end of the query. {VALID_OPERATORS}"
        ))
    }

    // Jira Cloud words operand errors "Error in JQL Query" (without "the"), unlike its others.
    pub(super) fn expecting_operand(got: &str, at: Position) -> Self {
        Self::one(format!(
            "Error in JQL Query: Expecting either a value, list or function but got '{got}'. You must \
             surround '{got}' in quotation marks to use it as a value. (line {}, character {})",
            at.line, at.character
        ))
    }

    pub(super) fn expecting_operand_at_end() -> Self {
        Self::one(
            "Error in JQL Query: Expecting either a value, list or function before the end of the query."
                .to_owned(),
        )
    }

    pub(super) fn expecting_and_or(got: &str, at: Position) -> Self {
        Self::syntax(
            &format!("Expecting either 'OR' or 'AND' but got '{got}'."),
            at,
        )
    }

    pub(super) fn expecting(expected: &str, got: &str, at: Position) -> Self {
        Self::syntax(&format!("Expecting {expected} but got '{got}'."), at)
    }

    pub(super) fn expecting_at_end(expected: &str) -> Self {
        Self::one(format!(
            "Error in the JQL Query: Expecting {expected} before the end of the query."
        ))
    }

    pub(super) fn too_deep(at: Position) -> Self {
        Self::syntax("The query nests parentheses or NOT too deeply.", at)
    }

    pub(super) fn unknown_field(field: &str) -> Self {
        Self::one(format!(
            "Field '{field}' does not exist or you do not have permission to view it."
        ))
    }

    pub(super) fn unsupported_operator(operator: &str, field: &str) -> Self {
        Self::one(format!(
            "The operator '{operator}' is not supported by the '{field}' field."
        ))
    }

    pub(super) fn list_not_supported(operator: &str, field: &str) -> Self {
        Self::one(format!(
            "The operator '{operator}' does not support multiple values for the field '{field}'."
        ))
    }

    pub(super) fn list_required(operator: &str, value: &str, field: &str) -> Self {
        Self::one(format!(
            "The operator '{operator}' does not support the non-list value '{value}' for field '{field}'."
        ))
    }

    pub(super) fn empty_only(operator: &str, field: &str) -> Self {
        Self::one(format!(
            "The operator '{operator}' only supports searching for EMPTY values for the field '{field}'."
        ))
    }

    pub(super) fn empty_not_supported(operator: &str, field: &str) -> Self {
        Self::one(format!(
            "The operator '{operator}' does not support searching for EMPTY values for the field '{field}'."
        ))
    }

    pub(super) fn invalid_date(value: &str, field: &str) -> Self {
        Self::one(format!(
            "Date value '{value}' for field '{field}' is invalid. {DATE_FORMATS}"
        ))
    }

    pub(super) fn invalid_issue_key(value: &str, field: &str) -> Self {
        Self::one(format!(
            "The issue key '{value}' for field '{field}' is invalid."
        ))
    }

    pub(super) fn unknown_function(name: &str) -> Self {
        Self::one(format!("Unable to find JQL function '{name}()'."))
    }

    pub(super) fn function_arguments(name: &str, got: usize) -> Self {
        Self::one(format!(
            "Function '{name}' expected '0' arguments but received '{got}'."
        ))
    }

    pub(super) fn function_invalid_for_field(name: &str, field: &str) -> Self {
        Self::one(format!(
            "A value provided by the function '{name}' is invalid for the field '{field}'."
        ))
    }
}
