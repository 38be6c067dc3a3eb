//! Splits JQL text into tokens: words (quoted or not), operators, parentheses and commas.

use super::error::JqlError;

/// Where a token starts, counted as Jira counts it (both from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Position {
    pub line: usize,
    pub character: usize,
}

/// A comparison operator written with symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Symbol {
    Equals,
    NotEquals,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Contains,
    NotContains,
}

/// A word JQL gives a meaning of its own when it is not quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Keyword {
    And,
    Or,
    Not,
    In,
    Is,
    Empty,
    Order,
    By,
    Asc,
    Desc,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TokenKind {
    /// A string: an unquoted word (not a keyword) or anything between quotes, escapes resolved.
    Word {
        value: String,
        quoted: bool,
    },
    Keyword(Keyword),
    Symbol(Symbol),
    LeftParen,
    RightParen,
    Comma,
    End,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub kind: TokenKind,
    /// The text as written, for error messages.
    pub text: String,
    pub at: Position,
}

/// Characters that may not appear in an unquoted word (besides those that start other tokens).
const RESERVED_CHARACTERS: &[char] = &[
    '[', ']', '{', '}', '*', '/', '%', '+', '^', '$', '#', '@', '?', ';',
];

/// Characters that end an unquoted word because they start a token of their own.
const TOKEN_STARTS: &[char] = &['(', ')', ',', '=', '!', '<', '>', '~', '&', '|', '"', '\''];

/// Turns the query into tokens, ending with [`TokenKind::End`].
pub(super) fn tokenize(input: &str) -> Result<Vec<Token>, JqlError> {
    Lexer::new(input).run()
}

struct Lexer {
    chars: Vec<char>,
    index: usize,
    line: usize,
    line_start: usize,
}

impl Lexer {
    fn new(input: &str) -> Self {
        Lexer {
            chars: input.chars().collect(),
            index: 0,
            line: 1,
            line_start: 0,
        }
    }

    fn position(&self) -> Position {
        Position {
            line: self.line,
            character: self.index - self.line_start + 1,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.index).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.index += 1;
        if c == '\n' {
            self.line += 1;
            self.line_start = self.index;
        }
        Some(c)
    }

    fn run(mut self) -> Result<Vec<Token>, JqlError> {
        let mut tokens = Vec::new();
        loop {
            while self.peek().is_some_and(char::is_whitespace) {
                self.bump();
            }
            let at = self.position();
            let start = self.index;
            let Some(c) = self.peek() else {
                tokens.push(Token {
                    kind: TokenKind::End,
                    text: String::new(),
                    at,
                });
                return Ok(tokens);
            };
            let kind = match c {
                '(' => self.single(TokenKind::LeftParen),
                ')' => self.single(TokenKind::RightParen),
                ',' => self.single(TokenKind::Comma),
                '=' => self.single(TokenKind::Symbol(Symbol::Equals)),
                '~' => self.single(TokenKind::Symbol(Symbol::Contains)),
                '!' => self.after_bang(),
                '<' => self.comparison(Symbol::Less, Symbol::LessOrEqual),
                '>' => self.comparison(Symbol::Greater, Symbol::GreaterOrEqual),
                '&' => self.doubled('&', Keyword::And),
                '|' => self.doubled('|', Keyword::Or),
                '"' | '\'' => self.quoted(c, at)?,
                _ => self.unquoted()?,
            };
            let text = self.chars[start..self.index].iter().collect();
            tokens.push(Token { kind, text, at });
        }
    }

    fn single(&mut self, kind: TokenKind) -> TokenKind {
        self.bump();
        kind
    }

    fn after_bang(&mut self) -> TokenKind {
        self.bump();
        match self.peek() {
            Some('=') => self.single(TokenKind::Symbol(Symbol::NotEquals)),
            Some('~') => self.single(TokenKind::Symbol(Symbol::NotContains)),
            _ => TokenKind::Keyword(Keyword::Not),
        }
    }

    fn comparison(&mut self, strict: Symbol, or_equal: Symbol) -> TokenKind {
        self.bump();
        if self.peek() == Some('=') {
            self.single(TokenKind::Symbol(or_equal))
        } else {
            TokenKind::Symbol(strict)
        }
    }

    fn doubled(&mut self, c: char, keyword: Keyword) -> TokenKind {
        self.bump();
        if self.peek() == Some(c) {
            self.bump();
        }
        TokenKind::Keyword(keyword)
    }

    fn quoted(&mut self, quote: char, at: Position) -> Result<TokenKind, JqlError> {
        self.bump();
        let mut value = String::new();
        loop {
            match self.peek() {
                None => return Err(JqlError::unterminated_string(&value, at)),
                Some(c) if c == quote => {
                    self.bump();
                    return Ok(TokenKind::Word {
                        value,
                        quoted: true,
                    });
                }
                Some('\\') => value.push(self.escape()?),
                Some(c) => {
                    self.bump();
                    value.push(c);
                }
            }
        }
    }

    fn unquoted(&mut self) -> Result<TokenKind, JqlError> {
        let mut value = String::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace() || TOKEN_STARTS.contains(&c) {
                break;
            }
            if RESERVED_CHARACTERS.contains(&c) {
                return Err(JqlError::reserved_character(c, self.position()));
            }
            if c == '\\' {
                value.push(self.escape()?);
            } else {
                self.bump();
                value.push(c);
            }
        }
        Ok(match keyword(&value) {
            Some(k) => TokenKind::Keyword(k),
            None => TokenKind::Word {
                value,
                quoted: false,
            },
        })
    }

    /// Reads one backslash escape, as JQL allows them in and out of quotes.
    fn escape(&mut self) -> Result<char, JqlError> {
        let at = self.position();
        self.bump();
        let Some(c) = self.bump() else {
            return Err(JqlError::illegal_escape("\\", at));
        };
        match c {
            '"' | '\'' | '\\' | ' ' => Ok(c),
            't' => Ok('\t'),
            'n' => Ok('\n'),
            'r' => Ok('\r'),
            'u' => {
                let digits: String = (0..4).filter_map(|_| self.bump()).collect();
                u32::from_str_radix(&digits, 16)
                    .ok()
                    .filter(|_| digits.len() == 4)
                    .and_then(char::from_u32)
                    .ok_or_else(|| JqlError::illegal_escape(&format!("\\u{digits}"), at))
            }
            other => Err(JqlError::illegal_escape(&format!("\\{other}"), at)),
        }
    }
}

fn keyword(word: &str) -> Option<Keyword> {
    Some(match word.to_ascii_lowercase().as_str() {
        "and" => Keyword::And,
        "or" => Keyword::Or,
        "not" => Keyword::Not,
        "in" => Keyword::In,
        "is" => Keyword::Is,
        "empty" | "null" => Keyword::Empty,
        "order" => Keyword::Order,
        "by" => Keyword::By,
        "asc" => Keyword::Asc,
        "desc" => Keyword::Desc,
        _ => return None,
    })
}

/// Words Jira keeps for itself: unquoted, they are refused as field names and values.
const RESERVED_WORDS: &[&str] = &[
    "abort",
    "access",
    "add",
    "after",
    "alias",
    "all",
    "alter",
    "any",
    "as",
    "audit",
    "avg",
    "before",
    "begin",
    "between",
    "boolean",
    "break",
    "byte",
    "catch",
    "cf",
    "char",
    "character",
    "check",
    "checkpoint",
    "collate",
    "collation",
    "column",
    "commit",
    "connect",
    "continue",
    "count",
    "create",
    "current",
    "date",
    "decimal",
    "declare",
    "decrement",
    "default",
    "defaults",
    "define",
    "delete",
    "delimiter",
    "difference",
    "distinct",
    "divide",
    "do",
    "double",
    "drop",
    "else",
    "encoding",
    "end",
    "equals",
    "escape",
    "exclusive",
    "exec",
    "execute",
    "exists",
    "explain",
    "false",
    "fetch",
    "file",
    "field",
    "first",
    "float",
    "for",
    "from",
    "function",
    "go",
    "goto",
    "grant",
    "greater",
    "group",
    "having",
    "identified",
    "if",
    "immediate",
    "increment",
    "index",
    "initial",
    "inner",
    "inout",
    "input",
    "insert",
    "int",
    "integer",
    "intersect",
    "intersection",
    "into",
    "isempty",
    "isnull",
    "join",
    "last",
    "left",
    "less",
    "like",
    "limit",
    "lock",
    "long",
    "max",
    "min",
    "minus",
    "mode",
    "modify",
    "modulo",
    "more",
    "multiply",
    "next",
    "noaudit",
    "notin",
    "nowait",
    "number",
    "object",
    "of",
    "on",
    "option",
    "outer",
    "output",
    "power",
    "previous",
    "prior",
    "privileges",
    "public",
    "raise",
    "raw",
    "remainder",
    "rename",
    "resource",
    "return",
    "returns",
    "revoke",
    "right",
    "row",
    "rowid",
    "rownum",
    "rows",
    "select",
    "session",
    "set",
    "share",
    "size",
    "sqrt",
    "start",
    "strict",
    "string",
    "subtract",
    "sum",
    "synonym",
    "table",
    "then",
    "to",
    "trans",
    "transaction",
    "trigger",
    "true",
    "uid",
    "union",
    "unique",
    "update",
    "user",
    "validate",
    "values",
    "view",
    "when",
    "whenever",
    "where",
    "while",
    "with",
];

/// Whether an unquoted word is one Jira reserves.
pub(super) fn is_reserved_word(word: &str) -> bool {
    RESERVED_WORDS.contains(&word.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<TokenKind> {
        tokenize(input)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    fn word(value: &str, quoted: bool) -> TokenKind {
        TokenKind::Word {
            value: value.to_owned(),
            quoted,
        }
    }

    #[test]
    fn splits_a_simple_clause() {
        assert_eq!(
            kinds("project=SEC"),
            vec![
                word("project", false),
                TokenKind::Symbol(Symbol::Equals),
                word("SEC", false),
                TokenKind::End
            ]
        );
    }

    #[test]
    fn reads_every_operator() {
        assert_eq!(
            kinds("= != < <= > >= ~ !~ ! & && | ||"),
            vec![
                TokenKind::Symbol(Symbol::Equals),
                TokenKind::Symbol(Symbol::NotEquals),
                TokenKind::Symbol(Symbol::Less),
                TokenKind::Symbol(Symbol::LessOrEqual),
                TokenKind::Symbol(Symbol::Greater),
                TokenKind::Symbol(Symbol::GreaterOrEqual),
                TokenKind::Symbol(Symbol::Contains),
                TokenKind::Symbol(Symbol::NotContains),
                TokenKind::Keyword(Keyword::Not),
                TokenKind::Keyword(Keyword::And),
                TokenKind::Keyword(Keyword::And),
                TokenKind::Keyword(Keyword::Or),
                TokenKind::Keyword(Keyword::Or),
                TokenKind::End
            ]
        );
    }

    #[test]
    fn keywords_are_case_insensitive_and_never_quoted() {
        assert_eq!(
            kinds("AnD oR \"and\" Null EMPTY"),
            vec![
                TokenKind::Keyword(Keyword::And),
                TokenKind::Keyword(Keyword::Or),
                word("and", true),
                TokenKind::Keyword(Keyword::Empty),
                TokenKind::Keyword(Keyword::Empty),
                TokenKind::End
            ]
        );
    }

    #[test]
    fn quoted_strings_take_both_quotes_and_escapes() {
        assert_eq!(
            kinds(r#""In Progress" 'To Do' "a\"b" 'it\'s' "x\u0040y" a\u0040b"#),
            vec![
                word("In Progress", true),
                word("To Do", true),
                word("a\"b", true),
                word("it's", true),
                word("x@y", true),
                word("a@b", false),
                TokenKind::End
            ]
        );
    }

    #[test]
    fn relative_periods_stay_one_word() {
        assert_eq!(
            kinds("updated >= -5d"),
            vec![
                word("updated", false),
                TokenKind::Symbol(Symbol::GreaterOrEqual),
                word("-5d", false),
                TokenKind::End
            ]
        );
    }

    #[test]
    fn positions_count_lines_and_characters_from_one() {
        let tokens = tokenize("a = b\n  AND c = d").unwrap();
        assert_eq!(
            tokens[0].at,
            Position {
                line: 1,
                character: 1
            }
        );
        assert_eq!(
            tokens[2].at,
            Position {
                line: 1,
                character: 5
            }
        );
        assert_eq!(
            tokens[3].at,
            Position {
                line: 2,
                character: 3
            }
        );
        assert_eq!(tokens[3].text, "AND");
    }

    #[test]
    fn an_unterminated_string_is_refused_at_its_quote() {
        assert_eq!(
            tokenize("summary ~ \"unclosed").unwrap_err().to_string(),
            "Error in the JQL Query: The quoted string 'unclosed' has not been completed. (line 1, character 11)"
        );
    }

    #[test]
    fn a_reserved_character_must_be_quoted_or_escaped() {
        assert_eq!(
            tokenize("assignee = alice@example.com")
                .unwrap_err()
                .to_string(),
            "Error in the JQL Query: The character '@' is a reserved JQL character. You must enclose it \
             in a string or use the escape '\\u0040' instead. (line 1, character 17)"
        );
        assert!(tokenize("assignee = \"alice@example.com\"").is_ok());
    }

    #[test]
    fn an_illegal_escape_is_refused() {
        assert_eq!(
            tokenize(r#"summary ~ "a\qb""#).unwrap_err().to_string(),
            "Error in the JQL Query: The escape sequence '\\q' is illegal. (line 1, character 13)"
        );
        assert!(tokenize(r#"x = "\u00""#).is_err());
        assert!(tokenize("x = \\").is_err());
    }

    #[test]
    fn reserved_words_are_known() {
        assert!(is_reserved_word("SELECT"));
        assert!(is_reserved_word("user"));
        assert!(!is_reserved_word("project"));
    }
}
