//! Atlassian Document Format (Jira Cloud, REST v3): typed nodes built from blocks, and text extraction
//! from whatever ADF Jira hands back.

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::blocks::{Block, Inline, jira_len};

/// An ADF document (`{"type":"doc","version":1,"content":[...]}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdfDoc {
    /// Always `doc`.
    #[serde(rename = "type")]
    pub kind: DocKind,
    /// Always 1.
    pub version: u8,
    /// Top-level blocks.
    pub content: Vec<AdfBlock>,
}

/// The `doc` type tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DocKind {
    /// `doc`.
    Doc,
}

/// The block nodes this client writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum AdfBlock {
    /// `paragraph`.
    Paragraph {
        /// Inline content.
        content: Vec<AdfInline>,
    },
    /// `heading` with its level.
    Heading {
        /// `{"level": n}`.
        attrs: HeadingAttrs,
        /// Inline content.
        content: Vec<AdfInline>,
    },
    /// `bulletList` of `listItem`s.
    BulletList {
        /// The items.
        content: Vec<AdfBlock>,
    },
    /// `listItem` holding paragraphs.
    ListItem {
        /// The item's blocks.
        content: Vec<AdfBlock>,
    },
}

/// Heading level attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadingAttrs {
    /// 1-6.
    pub level: u8,
}

/// The inline nodes this client writes. User text only ever lands in `text` nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum AdfInline {
    /// `text`, optionally marked.
    Text {
        /// The text itself (taken literally by Jira).
        text: String,
        /// Marks such as `strong`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        marks: Vec<AdfMark>,
    },
    /// `hardBreak`.
    HardBreak,
}

/// Text marks this client writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum AdfMark {
    /// Bold.
    Strong,
}

impl AdfDoc {
    /// A document of the given blocks.
    pub fn from_blocks(blocks: &[Block]) -> AdfDoc {
        AdfDoc {
            kind: DocKind::Doc,
            version: 1,
            content: blocks.iter().map(block).collect(),
        }
    }

    /// A document of plain user text (comments): paragraphs and line breaks, nothing else.
    pub fn from_plain_text(text: &str) -> AdfDoc {
        AdfDoc::from_blocks(&super::blocks::paragraphs(text))
    }
}

/// Serialized length of one block's node, for budgeting against Jira's field limit.
pub fn block_len(b: &Block) -> usize {
    serde_json::to_string(&block(b)).map_or(usize::MAX, |json| jira_len(&json))
}

/// Serialized length of an empty document (the wrapper around the blocks).
pub fn wrapper_len() -> usize {
    serde_json::to_string(&AdfDoc::from_blocks(&[])).map_or(usize::MAX, |json| jira_len(&json))
}

fn block(b: &Block) -> AdfBlock {
    match b {
        Block::Heading { level, text } => AdfBlock::Heading {
            attrs: HeadingAttrs { level: *level },
            content: inlines(&[Inline::Text(text.clone())]),
        },
        Block::Paragraph(items) => AdfBlock::Paragraph {
            content: inlines(items),
        },
        Block::Bullets(items) => AdfBlock::BulletList {
            content: items
                .iter()
                .map(|item| AdfBlock::ListItem {
                    content: vec![AdfBlock::Paragraph {
                        content: inlines(item),
                    }],
                })
                .collect(),
        },
    }
}

fn inlines(items: &[Inline]) -> Vec<AdfInline> {
    items
        .iter()
        // ADF rejects empty text nodes.
        .filter(|item| !matches!(item, Inline::Text(t) | Inline::Strong(t) if t.is_empty()))
        .map(|item| match item {
            Inline::Text(text) => AdfInline::Text {
                text: text.clone(),
                marks: Vec::new(),
            },
            Inline::Strong(text) => AdfInline::Text {
                text: text.clone(),
                marks: vec![AdfMark::Strong],
            },
            Inline::Break => AdfInline::HardBreak,
        })
        .collect()
}

/// Inline node types: everything else is a block and ends a line.
const INLINE_TYPES: &[&str] = &[
    "text",
    "hardBreak",
    "mention",
    "emoji",
    "inlineCard",
    "date",
    "status",
    "placeholder",
];

/// Visitor methods for the JSON scalars that carry no text: numbers, booleans and null.
macro_rules! no_text_in_scalars {
    () => {
        fn visit_bool<E>(self, _: bool) -> Result<String, E> {
            Ok(String::new())
        }

        fn visit_i64<E>(self, _: i64) -> Result<String, E> {
            Ok(String::new())
        }

        fn visit_u64<E>(self, _: u64) -> Result<String, E> {
            Ok(String::new())
        }

        fn visit_f64<E>(self, _: f64) -> Result<String, E> {
            Ok(String::new())
        }

        fn visit_unit<E>(self) -> Result<String, E> {
            Ok(String::new())
        }
    };
}
pub(super) use no_text_in_scalars;

/// The text of any ADF node Jira returns (unknown node types included), one line per block, read
/// straight from the JSON: as a tree of values, one search page of large Batch descriptions took
/// tens of MiB.
pub struct AdfText(pub String);

impl<'de> Deserialize<'de> for AdfText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeText).map(AdfText)
    }
}

/// Reads the text of one ADF value: arrays concatenate, objects are nodes, scalars have none.
pub struct NodeText;

impl<'de> Visitor<'de> for NodeText {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an ADF node")
    }

    no_text_in_scalars!();

    fn visit_str<E>(self, _: &str) -> Result<String, E> {
        Ok(String::new())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<String, A::Error> {
        let mut out = String::new();
        while let Some(AdfText(text)) = seq.next_element()? {
            out.push_str(&text);
        }
        Ok(out)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<String, A::Error> {
        // Keys come in any order: the parts are gathered, then put together as the node reads.
        let (mut kind, mut text, mut attrs, mut content) = (None, None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => kind = Some(map.next_value::<Value>()?),
                "text" => text = Some(map.next_value::<Value>()?),
                "attrs" => attrs = Some(map.next_value::<Value>()?),
                "content" => content = Some(map.next_value::<AdfText>()?.0),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let kind = kind.as_ref().and_then(Value::as_str).unwrap_or("");
        let mut out = String::new();
        match kind {
            "text" => out.push_str(text.as_ref().and_then(Value::as_str).unwrap_or("")),
            "hardBreak" => out.push('\n'),
            "mention" | "emoji" | "status" | "date" | "placeholder" => {
                let shown = attrs
                    .as_ref()
                    .and_then(|a| a.get("text").or_else(|| a.get("shortName")))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                out.push_str(shown);
            }
            _ => {}
        }
        if let Some(content) = content {
            out.push_str(&content);
        }
        if !INLINE_TYPES.contains(&kind) {
            out.push('\n');
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn blocks_serialize_to_adf() {
        let doc = AdfDoc::from_blocks(&[
            Block::Heading {
                level: 2,
                text: "Patch *now*".into(),
            },
            Block::Bullets(vec![vec![
                Inline::Strong("Check: ".into()),
                Inline::Text("vuln".into()),
            ]]),
            Block::Paragraph(vec![
                Inline::Text("a".into()),
                Inline::Break,
                Inline::Text("b".into()),
            ]),
        ]);
        assert_eq!(
            serde_json::to_value(&doc).unwrap(),
            json!({"type": "doc", "version": 1, "content": [
                {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Patch *now*"}]},
                {"type": "bulletList", "content": [{"type": "listItem", "content": [{"type": "paragraph", "content": [
                    {"type": "text", "text": "Check: ", "marks": [{"type": "strong"}]},
                    {"type": "text", "text": "vuln"}]}]}]},
                {"type": "paragraph", "content": [{"type": "text", "text": "a"}, {"type": "hardBreak"}, {"type": "text", "text": "b"}]}
            ]})
        );
    }

    /// The reading of ADF before it streamed, over a tree of values: the oracle for [`AdfText`].
    fn extract_text(node: &Value) -> String {
        let mut out = String::new();
        walk(node, &mut out);
        out
    }

    fn walk(node: &Value, out: &mut String) {
        match node {
            Value::Array(items) => items.iter().for_each(|item| walk(item, out)),
            Value::Object(map) => {
                let kind = map.get("type").and_then(Value::as_str).unwrap_or("");
                match kind {
                    "text" => out.push_str(map.get("text").and_then(Value::as_str).unwrap_or("")),
                    "hardBreak" => out.push('\n'),
                    "mention" | "emoji" | "status" | "date" | "placeholder" => {
                        let attrs = map.get("attrs");
                        let text = attrs
                            .and_then(|a| a.get("text").or_else(|| a.get("shortName")))
                            .and_then(Value::as_str)
                            .unwrap_or("");
                        out.push_str(text);
                    }
                    _ => {}
                }
                if let Some(content) = map.get("content") {
                    walk(content, out);
                }
                if !INLINE_TYPES.contains(&kind) {
                    out.push('\n');
                }
            }
            _ => {}
        }
    }

    fn streamed(node: &Value) -> String {
        AdfText::deserialize(node).map(|t| t.0).unwrap_or_default()
    }

    fn arbitrary_json() -> impl Strategy<Value = Value> {
        let kind = prop_oneof![
            Just("text"),
            Just("hardBreak"),
            Just("mention"),
            Just("emoji"),
            Just("status"),
            Just("paragraph"),
            Just("doc"),
            Just("codeBlock"),
            Just("rule"),
            Just("bulletList"),
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-z @\n]{0,8}".prop_map(Value::from),
            kind.clone().prop_map(Value::from),
        ];
        leaf.prop_recursive(5, 64, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
                (
                    kind.clone(),
                    proptest::option::of("[a-z ]{0,6}"),
                    proptest::option::of(inner.clone()),
                    proptest::option::of(inner),
                )
                    .prop_map(|(kind, text, attrs, content)| {
                        let mut node = json!({"type": kind});
                        if let Some(text) = text {
                            node["text"] = json!(text);
                            node["attrs"] = json!({"shortName": text});
                        }
                        if let Some(attrs) = attrs {
                            node["attrs"] = attrs;
                        }
                        if let Some(content) = content {
                            node["content"] = content;
                        }
                        node
                    }),
            ]
        })
    }

    proptest! {
        #[test]
        fn streaming_reads_any_json_as_the_tree_walk_did(node in arbitrary_json()) {
            prop_assert_eq!(streamed(&node), extract_text(&node));
            let text: AdfText = serde_json::from_str(&node.to_string()).unwrap();
            prop_assert_eq!(text.0, extract_text(&node));
        }
    }

    #[test]
    fn extraction_reads_foreign_nodes() {
        let doc = json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [
                {"type": "text", "text": "Hi "},
                {"type": "mention", "attrs": {"id": "1", "text": "@alice"}},
                {"type": "text", "text": " see", "marks": [{"type": "em"}]}
            ]},
            {"type": "codeBlock", "content": [{"type": "text", "text": "kubectl get ctask"}]},
            {"type": "rule"}
        ]});
        assert_eq!(
            super::super::blocks::normalize(&streamed(&doc)),
            "Hi @alice see\nkubectl get ctask"
        );
    }
}
