//! Building JQL from values safely: every value is quoted, so labels, keys or names can never change
//! the shape of a query.

/// A JQL string literal: the value in double quotes with `"` and `\` escaped, and line breaks
/// written as escapes (JQL literals cannot span lines).
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `field in ("a", "b")` for a non-empty list of values; `None` for an empty one (JQL rejects `in ()`).
pub fn in_list(field: &str, values: &[String]) -> Option<String> {
    if values.is_empty() {
        return None;
    }
    let quoted: Vec<String> = values.iter().map(|v| quote(v)).collect();
    Some(format!("{field} in ({})", quoted.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cannot_break_out_of_their_literal() {
        assert_eq!(quote("jas-sync"), r#""jas-sync""#);
        assert_eq!(quote(r#"x" OR project = OPS"#), r#""x\" OR project = OPS""#);
        assert_eq!(quote(r"a\"), r#""a\\""#);
        assert_eq!(quote("a\nb"), r#""a\nb""#);
        assert_eq!(
            in_list("labels", &["a".into(), "b c".into()]).as_deref(),
            Some(r#"labels in ("a", "b c")"#)
        );
        assert_eq!(in_list("labels", &[]), None);
    }
}
