//! Reads the token stream into a syntax tree, refusing malformed queries with Jira's messages.
//! Fields and values are not checked here; `resolve` does that.

use super::ast::{Direction, Operator};
use super::error::JqlError;
use super::lexer::{Keyword, Symbol, Token, TokenKind, is_reserved_word, tokenize};

/// How deep parentheses and `NOT`s may nest, so that no query can exhaust the stack.
const MAX_DEPTH: usize = 64;

/// A query as written: names and values not yet checked.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Syntax {
    pub clause: Option<RawClause>,
    pub order_by: Vec<RawSortKey>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum RawClause {
    And(Vec<RawClause>),
    Or(Vec<RawClause>),
    Not(Box<RawClause>),
    Terminal {
        field: String,
        operator: Operator,
        operand: RawOperand,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum RawOperand {
    Empty,
    Value(String),
    Function {
        name: String,
        arguments: Vec<String>,
    },
    List(Vec<RawOperand>),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct RawSortKey {
    pub field: String,
    pub direction: Option<Direction>,
}

/// Parses JQL text into its syntax tree.
pub(super) fn parse_syntax(input: &str) -> Result<Syntax, JqlError> {
    let tokens = tokenize(input)?;
    let mut parser = Parser { tokens, index: 0 };
    let clause = if matches!(
        parser.peek().kind,
        TokenKind::Keyword(Keyword::Order) | TokenKind::End
    ) {
        None
    } else {
        Some(parser.or_clause(0)?)
    };
    let order_by = parser.order_by()?;
    let last = parser.peek();
    match last.kind {
        TokenKind::End => Ok(Syntax { clause, order_by }),
        _ => Err(JqlError::expecting_and_or(&last.text, last.at)),
    }
}

struct Parser {
    tokens: Vec<Token>,
    index: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        // The lexer always ends with `End`, and `advance` never moves past it.
        &self.tokens[self.index.min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != TokenKind::End {
            self.index += 1;
        }
        token
    }

    fn at_keyword(&self, keyword: Keyword) -> bool {
        self.peek().kind == TokenKind::Keyword(keyword)
    }

    fn or_clause(&mut self, depth: usize) -> Result<RawClause, JqlError> {
        self.joined(depth, Keyword::Or, Self::and_clause, RawClause::Or)
    }

    fn and_clause(&mut self, depth: usize) -> Result<RawClause, JqlError> {
        self.joined(depth, Keyword::And, Self::not_clause, RawClause::And)
    }

    /// `part (keyword part)*`: a lone part stands as itself, more are joined by `join`.
    fn joined(
        &mut self,
        depth: usize,
        keyword: Keyword,
        part: fn(&mut Self, usize) -> Result<RawClause, JqlError>,
        join: fn(Vec<RawClause>) -> RawClause,
    ) -> Result<RawClause, JqlError> {
        let mut parts = vec![part(self, depth)?];
        while self.at_keyword(keyword) {
            self.advance();
            parts.push(part(self, depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            join(parts)
        })
    }

    fn not_clause(&mut self, depth: usize) -> Result<RawClause, JqlError> {
        if depth > MAX_DEPTH {
            return Err(JqlError::too_deep(self.peek().at));
        }
        if self.at_keyword(Keyword::Not) {
            self.advance();
            return Ok(RawClause::Not(Box::new(self.not_clause(depth + 1)?)));
        }
        if self.peek().kind == TokenKind::LeftParen {
            self.advance();
            let inner = self.or_clause(depth + 1)?;
            let close = self.advance();
            return match close.kind {
                TokenKind::RightParen => Ok(inner),
                TokenKind::End => Err(JqlError::expecting_at_end("')'")),
                _ => Err(JqlError::expecting_and_or(&close.text, close.at)),
            };
        }
        self.terminal()
    }

    fn terminal(&mut self) -> Result<RawClause, JqlError> {
        let field = self.field_name()?;
        let operator = self.operator()?;
        let operand = self.operand()?;
        Ok(RawClause::Terminal {
            field,
            operator,
            operand,
        })
    }

    fn field_name(&mut self) -> Result<String, JqlError> {
        let token = self.advance();
        match token.kind {
            TokenKind::Word { value, quoted } => {
                if !quoted && is_reserved_word(&value) {
                    Err(JqlError::reserved_word(&value, token.at))
                } else {
                    Ok(value)
                }
            }
            TokenKind::End => Err(JqlError::expecting_field_at_end()),
            _ => Err(JqlError::expecting_field(&token.text, token.at)),
        }
    }

    fn operator(&mut self) -> Result<Operator, JqlError> {
        let token = self.advance();
        Ok(match token.kind {
            TokenKind::Symbol(symbol) => match symbol {
                Symbol::Equals => Operator::Equals,
                Symbol::NotEquals => Operator::NotEquals,
                Symbol::Less => Operator::Less,
                Symbol::LessOrEqual => Operator::LessOrEqual,
                Symbol::Greater => Operator::Greater,
                Symbol::GreaterOrEqual => Operator::GreaterOrEqual,
                Symbol::Contains => Operator::Contains,
                Symbol::NotContains => Operator::NotContains,
            },
            TokenKind::Keyword(Keyword::In) => Operator::In,
            TokenKind::Keyword(Keyword::Not) => {
                let next = self.advance();
                match next.kind {
                    TokenKind::Keyword(Keyword::In) => Operator::NotIn,
                    TokenKind::End => return Err(JqlError::expecting_operator_at_end()),
                    _ => return Err(JqlError::expecting_operator(&next.text, next.at)),
                }
            }
            TokenKind::Keyword(Keyword::Is) => {
                if self.at_keyword(Keyword::Not) {
                    self.advance();
                    Operator::IsNot
                } else {
                    Operator::Is
                }
            }
            TokenKind::End => return Err(JqlError::expecting_operator_at_end()),
            _ => return Err(JqlError::expecting_operator(&token.text, token.at)),
        })
    }

    fn operand(&mut self) -> Result<RawOperand, JqlError> {
        if self.peek().kind == TokenKind::LeftParen {
            self.list()
        } else {
            self.single_operand()
        }
    }

    fn list(&mut self) -> Result<RawOperand, JqlError> {
        self.advance();
        let mut members = Vec::new();
        loop {
            members.push(self.single_operand()?);
            let separator = self.advance();
            match separator.kind {
                TokenKind::Comma => {}
                TokenKind::RightParen => return Ok(RawOperand::List(members)),
                TokenKind::End => return Err(JqlError::expecting_at_end("')'")),
                _ => {
                    return Err(JqlError::expecting(
                        "',' or ')'",
                        &separator.text,
                        separator.at,
                    ));
                }
            }
        }
    }

    fn single_operand(&mut self) -> Result<RawOperand, JqlError> {
        let token = self.advance();
        match token.kind {
            TokenKind::Keyword(Keyword::Empty) => Ok(RawOperand::Empty),
            TokenKind::Word { value, quoted } => {
                if quoted {
                    return Ok(RawOperand::Value(value));
                }
                if self.peek().kind == TokenKind::LeftParen {
                    return self.function(value);
                }
                if is_reserved_word(&value) {
                    return Err(JqlError::reserved_word(&value, token.at));
                }
                Ok(RawOperand::Value(value))
            }
            TokenKind::End => Err(JqlError::expecting_operand_at_end()),
            _ => Err(JqlError::expecting_operand(&token.text, token.at)),
        }
    }

    fn function(&mut self, name: String) -> Result<RawOperand, JqlError> {
        self.advance();
        let mut arguments = Vec::new();
        if self.peek().kind == TokenKind::RightParen {
            self.advance();
            return Ok(RawOperand::Function { name, arguments });
        }
        loop {
            let argument = self.advance();
            match argument.kind {
                TokenKind::Word { value, .. } => arguments.push(value),
                TokenKind::End => return Err(JqlError::expecting_at_end("')'")),
                _ => {
                    return Err(JqlError::expecting(
                        "a function argument",
                        &argument.text,
                        argument.at,
                    ));
                }
            }
            let separator = self.advance();
            match separator.kind {
                TokenKind::Comma => {}
                TokenKind::RightParen => return Ok(RawOperand::Function { name, arguments }),
                TokenKind::End => return Err(JqlError::expecting_at_end("')'")),
                _ => {
                    return Err(JqlError::expecting(
                        "',' or ')'",
                        &separator.text,
                        separator.at,
                    ));
                }
            }
        }
    }

    fn order_by(&mut self) -> Result<Vec<RawSortKey>, JqlError> {
        if !self.at_keyword(Keyword::Order) {
            return Ok(Vec::new());
        }
        self.advance();
        let by = self.advance();
        match by.kind {
            TokenKind::Keyword(Keyword::By) => {}
            TokenKind::End => return Err(JqlError::expecting_at_end("'by'")),
            _ => return Err(JqlError::expecting("'by'", &by.text, by.at)),
        }
        let mut keys = Vec::new();
        loop {
            let field = self.field_name()?;
            let direction = match self.peek().kind {
                TokenKind::Keyword(Keyword::Asc) => Some(Direction::Ascending),
                TokenKind::Keyword(Keyword::Desc) => Some(Direction::Descending),
                _ => None,
            };
            if direction.is_some() {
                self.advance();
            }
            keys.push(RawSortKey { field, direction });
            let next = self.peek();
            match next.kind {
                TokenKind::Comma => {
                    self.advance();
                }
                TokenKind::End => return Ok(keys),
                _ => {
                    return Err(JqlError::expecting(
                        "either 'ASC', 'DESC' or ','",
                        &next.text,
                        next.at,
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terminal(field: &str, operator: Operator, operand: RawOperand) -> RawClause {
        RawClause::Terminal {
            field: field.to_owned(),
            operator,
            operand,
        }
    }

    fn value(v: &str) -> RawOperand {
        RawOperand::Value(v.to_owned())
    }

    fn error(input: &str) -> String {
        parse_syntax(input).unwrap_err().to_string()
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let syntax = parse_syntax("a = 1 OR b = 2 AND c = 3").unwrap();
        assert_eq!(
            syntax.clause,
            Some(RawClause::Or(vec![
                terminal("a", Operator::Equals, value("1")),
                RawClause::And(vec![
                    terminal("b", Operator::Equals, value("2")),
                    terminal("c", Operator::Equals, value("3")),
                ]),
            ]))
        );
    }

    #[test]
    fn parentheses_and_not_group() {
        let syntax = parse_syntax("NOT (a = 1 OR b != 2) AND !c = 3").unwrap();
        assert_eq!(
            syntax.clause,
            Some(RawClause::And(vec![
                RawClause::Not(Box::new(RawClause::Or(vec![
                    terminal("a", Operator::Equals, value("1")),
                    terminal("b", Operator::NotEquals, value("2")),
                ]))),
                RawClause::Not(Box::new(terminal("c", Operator::Equals, value("3")))),
            ]))
        );
    }

    #[test]
    fn reads_every_operator() {
        for (text, operator) in [
            ("=", Operator::Equals),
            ("!=", Operator::NotEquals),
            ("<", Operator::Less),
            ("<=", Operator::LessOrEqual),
            (">", Operator::Greater),
            (">=", Operator::GreaterOrEqual),
            ("~", Operator::Contains),
            ("!~", Operator::NotContains),
            ("in", Operator::In),
            ("NOT IN", Operator::NotIn),
            ("is", Operator::Is),
            ("IS not", Operator::IsNot),
        ] {
            let syntax = parse_syntax(&format!("f {text} x")).unwrap();
            assert_eq!(
                syntax.clause,
                Some(terminal("f", operator, value("x"))),
                "{text}"
            );
        }
    }

    #[test]
    fn reads_lists_empty_and_functions() {
        let syntax = parse_syntax(
            "status in (\"To Do\", Done, EMPTY) and assignee = currentUser() and updated > now()",
        )
        .unwrap();
        assert_eq!(
            syntax.clause,
            Some(RawClause::And(vec![
                terminal(
                    "status",
                    Operator::In,
                    RawOperand::List(vec![value("To Do"), value("Done"), RawOperand::Empty])
                ),
                terminal(
                    "assignee",
                    Operator::Equals,
                    RawOperand::Function {
                        name: "currentUser".to_owned(),
                        arguments: vec![]
                    }
                ),
                terminal(
                    "updated",
                    Operator::Greater,
                    RawOperand::Function {
                        name: "now".to_owned(),
                        arguments: vec![]
                    }
                ),
            ]))
        );
        assert_eq!(
            parse_syntax("assignee is null").unwrap().clause,
            Some(terminal("assignee", Operator::Is, RawOperand::Empty))
        );
    }

    #[test]
    fn reads_order_by() {
        let syntax = parse_syntax("project = SEC order by updated DESC, key, created asc").unwrap();
        assert_eq!(
            syntax.order_by,
            vec![
                RawSortKey {
                    field: "updated".to_owned(),
                    direction: Some(Direction::Descending)
                },
                RawSortKey {
                    field: "key".to_owned(),
                    direction: None
                },
                RawSortKey {
                    field: "created".to_owned(),
                    direction: Some(Direction::Ascending)
                },
            ]
        );
        let only_order = parse_syntax("ORDER BY key").unwrap();
        assert_eq!(only_order.clause, None);
        assert_eq!(
            parse_syntax("").unwrap(),
            Syntax {
                clause: None,
                order_by: vec![]
            }
        );
        assert_eq!(parse_syntax("  \n ").unwrap().clause, None);
    }

    #[test]
    fn refuses_malformed_queries_as_jira_does() {
        assert_eq!(
            error("project = LAUNCH AND"),
            "Error in the JQL Query: Expecting a field name at the end of the query."
        );
        assert_eq!(
            error("project ="),
            "Error in JQL Query: Expecting either a value, list or function before the end of the query."
        );
        assert_eq!(
            error("project = LAUNCH AND status = = Done"),
            "Error in JQL Query: Expecting either a value, list or function but got '='. You must \
             surround '=' in quotation marks to use it as a value. (line 1, character 31)"
        );
        assert_eq!(
            error("project = LAUNCH status"),
            "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'status'. (line 1, character 18)"
        );
        assert_eq!(
            error("project = LAUNCH AND (status = Done"),
            "Error in the JQL Query: Expecting ')' before the end of the query."
        );
        assert_eq!(
            error("project foo"),
            "Error in the JQL Query: Expecting operator but got 'foo'. The valid operators are '=', \
             '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'. (line 1, character 9)"
        );
        assert!(
            error("project")
                .starts_with("Error in the JQL Query: Expecting operator before the end")
        );
        assert!(error("project not = x").contains("Expecting operator but got '='"));
        assert_eq!(
            error("project = select"),
            "Error in the JQL Query: 'select' is a reserved JQL word. You must surround it in quotation \
             marks to use it in a query. (line 1, character 11)"
        );
        assert!(parse_syntax("project = \"select\"").is_ok());
        assert!(error("= SEC").contains("Expecting a field name but got '='"));
        assert!(error("project = SEC ORDER key").contains("Expecting 'by' but got 'key'"));
        assert!(error("project = SEC ORDER").contains("Expecting 'by' before the end"));
        assert!(error("project = SEC ORDER BY").contains("Expecting a field name at the end"));
        assert!(
            error("ORDER BY key foo")
                .contains("Expecting either 'ASC', 'DESC' or ',' but got 'foo'")
        );
        assert!(error("project in (A B)").contains("Expecting ',' or ')' but got 'B'"));
        assert!(
            error("project in (A,").contains("Expecting either a value, list or function before")
        );
        assert!(error("project in (A").contains("Expecting ')' before the end"));
        assert!(error("a = now(").contains("Expecting ')' before the end"));
        assert!(error("a = f(x y)").contains("Expecting ',' or ')' but got 'y'"));
        assert!(error("(a = 1) b").contains("Expecting either 'OR' or 'AND' but got 'b'"));
        assert!(error("(a = 1 b").contains("Expecting either 'OR' or 'AND' but got 'b'"));
        assert!(error("a = 1 )").contains("Expecting either 'OR' or 'AND' but got ')'"));
    }

    #[test]
    fn refuses_nesting_beyond_the_limit_without_overflowing() {
        let deep = format!("{}a = 1{}", "(".repeat(500), ")".repeat(500));
        assert!(error(&deep).contains("too deeply"));
        let nots = format!("{}a = 1", "NOT ".repeat(500));
        assert!(error(&nots).contains("too deeply"));
        let fine = format!("{}a = 1{}", "(".repeat(20), ")".repeat(20));
        assert!(parse_syntax(&fine).is_ok());
    }

    #[test]
    fn positions_point_at_the_offending_token() {
        let err = parse_syntax("a = 1\nAND b c").unwrap_err();
        assert!(err.to_string().contains("(line 2, character 7)"), "{err}");
    }
}
