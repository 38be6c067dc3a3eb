//! Atlassian Document Format: validating what v3 clients send and converting to and from wiki text for v2.

use serde_json::{Value, json};

/// Whether `value` is an ADF document Jira accepts (`{"type": "doc", "version": 1, "content": [...]}`).
pub fn is_document(value: &Value) -> bool {
    value.get("type").and_then(Value::as_str) == Some("doc")
        && value.get("version").and_then(Value::as_u64) == Some(1)
        && value.get("content").is_some_and(Value::is_array)
}

/// The document for plain or wiki text: one paragraph per line, as Jira converts legacy text.
pub fn from_text(text: &str) -> Value {
    let content: Vec<Value> = text
        .split('\n')
        .map(|line| {
            if line.is_empty() {
                json!({ "type": "paragraph", "content": [] })
            } else {
                json!({ "type": "paragraph", "content": [{ "type": "text", "text": line }] })
            }
        })
        .collect();
    json!({ "type": "doc", "version": 1, "content": content })
}

/// The text of a document, blocks separated by newlines (what v2 shows for a v3-written field).
pub fn to_text(document: &Value) -> String {
    let mut blocks = Vec::new();
    if let Some(content) = document.get("content").and_then(Value::as_array) {
        for node in content {
            collect_block(node, &mut blocks);
        }
    }
    blocks.join("\n")
}

fn collect_block(node: &Value, blocks: &mut Vec<String>) {
    let node_type = node.get("type").and_then(Value::as_str).unwrap_or_default();
    match node_type {
        "bulletList" | "orderedList" => {
            let bullet = if node_type == "bulletList" { "*" } else { "#" };
            for item in children(node) {
                let mut inner = Vec::new();
                for child in children(item) {
                    collect_block(child, &mut inner);
                }
                blocks.push(format!("{bullet} {}", inner.join(" ")));
            }
        }
        "heading" => {
            let level = node
                .pointer("/attrs/level")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            blocks.push(format!("h{level}. {}", inline_text(node)));
        }
        "codeBlock" => blocks.push(format!("{{code}}\n{}\n{{code}}", inline_text(node))),
        "rule" => blocks.push("----".to_owned()),
        _ if node.get("text").is_some() => blocks.push(inline_text(node)),
        _ => {
            let has_block_children = children(node)
                .iter()
                .any(|c| c.get("content").is_some() && c.get("text").is_none());
            if has_block_children {
                for child in children(node) {
                    collect_block(child, blocks);
                }
            } else {
                blocks.push(inline_text(node));
            }
        }
    }
}

fn children(node: &Value) -> &[Value] {
    node.get("content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn inline_text(node: &Value) -> String {
    if let Some(text) = node.get("text").and_then(Value::as_str) {
        return text.to_owned();
    }
    if node.get("type").and_then(Value::as_str) == Some("hardBreak") {
        return "\n".to_owned();
    }
    children(node).iter().map(inline_text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_through_paragraphs() {
        let doc = from_text("first line\n\nthird line");
        assert!(is_document(&doc));
        assert_eq!(to_text(&doc), "first line\n\nthird line");
    }

    #[test]
    fn lists_and_headings_become_wiki_markup() {
        let doc = json!({"type": "doc", "version": 1, "content": [
            {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "How to fix"}]},
            {"type": "bulletList", "content": [
                {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "patch"}]}]},
                {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "restart"}]}]}
            ]}
        ]});
        assert_eq!(to_text(&doc), "h2. How to fix\n* patch\n* restart");
    }

    #[test]
    fn rejects_what_is_not_a_document() {
        assert!(!is_document(&json!("plain text")));
        assert!(!is_document(&json!({"type": "doc", "content": []})));
    }
}
