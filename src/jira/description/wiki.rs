//! Jira wiki markup (Data Center, REST v2): rendering blocks with every user character escaped, and
//! text extraction from wiki strings.

use super::blocks::{Block, Inline, jira_len};

/// Characters with a markup meaning somewhere in Jira's wiki renderer (text effects, lists, tables,
/// links, macros, emoticons); each is preceded by a backslash in user text.
const SPECIALS: &[char] = &[
    '*', '_', '?', '-', '+', '^', '~', '|', '!', '[', ']', '{', '}', '#', '(', ')',
];

/// Letters that turn a preceding `:` into an emoticon (`:P`, `:D`); the bracket ones are covered by
/// escaping the brackets.
const EMOTICON_LETTERS: &[char] = &['P', 'p', 'D', 'd'];

/// A backslash followed by a special would be an escape (and `\\` a forced line break), so a
/// literal backslash is written as an HTML entity, which the renderer shows as `\`.
const BACKSLASH_ENTITY: &str = "&#92;";

/// Escapes user text so that Jira shows it literally: specials are backslash-escaped, backslashes
/// become an entity, and line-start block markers (`h1.`, `bq.`) lose their meaning.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut chars = text.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|(_, next)| *next);
        if c == '\\' {
            out.push_str(BACKSLASH_ENTITY);
        } else if SPECIALS.contains(&c)
            || (c == ':' && next.is_some_and(|n| EMOTICON_LETTERS.contains(&n)))
        {
            out.push('\\');
            out.push(c);
        } else if c == '.' && i > 0 && is_block_marker(&text[..prefix_len(text, i)]) {
            out.push_str("\\.");
        } else {
            out.push(c);
        }
    }
    out
}

fn prefix_len(text: &str, char_index: usize) -> usize {
    text.char_indices()
        .nth(char_index)
        .map_or(text.len(), |(at, _)| at)
}

fn is_block_marker(prefix: &str) -> bool {
    let prefix = prefix.trim_start();
    matches!(prefix, "bq" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// Wiki markup for the blocks.
pub fn render(blocks: &[Block]) -> String {
    blocks.iter().map(block).collect::<Vec<_>>().join("\n\n")
}

/// Characters one block takes, including the blank line that separates it from the next.
pub fn block_len(b: &Block) -> usize {
    jira_len(&block(b)) + 2
}

fn block(b: &Block) -> String {
    match b {
        Block::Heading { level, text } => format!("h{level}. {}", escape(text)),
        Block::Paragraph(items) => inlines(items, ""),
        Block::Bullets(items) => items
            .iter()
            .map(|item| format!("* {}", inlines(item, "  ")))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn inlines(items: &[Inline], continuation: &str) -> String {
    let mut out = String::new();
    for item in items {
        match item {
            Inline::Text(text) => out.push_str(&escape(text)),
            Inline::Strong(text) if text.trim().is_empty() => out.push_str(&escape(text)),
            Inline::Strong(text) => {
                // Wiki bold must hug its text: move surrounding spaces outside the markers.
                let trimmed = text.trim();
                let lead = &text[..text.len() - text.trim_start().len()];
                let trail = &text[text.trim_end().len()..];
                out.push_str(&format!("{lead}*{}*{trail}", escape(trimmed)));
            }
            Inline::Break => {
                out.push('\n');
                out.push_str(continuation);
            }
        }
    }
    out
}

/// The text of a wiki string: heading and bullet markers and unescaped bold markers dropped,
/// escapes resolved. Exact for what [`render`] writes; a best effort for hand-written markup.
pub fn extract_text(wiki: &str) -> String {
    wiki.replace("\r\n", "\n")
        .split('\n')
        .map(extract_line)
        .collect::<Vec<_>>()
        .join("\n")
}

fn extract_line(line: &str) -> String {
    let trimmed = line.trim_start();
    let body = strip_block_marker(trimmed);
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\\') => out.push('\n'),
                Some(next) => out.push(next),
                None => {}
            },
            '*' => {}
            '&' if body_starts_with_entity(&mut chars) => out.push('\\'),
            _ => out.push(c),
        }
    }
    out
}

/// Consumes `#92;` after an `&` when it is there.
fn body_starts_with_entity(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> bool {
    let rest: String = chars.clone().take(4).collect();
    if rest == BACKSLASH_ENTITY[1..] {
        for _ in 0..4 {
            chars.next();
        }
        true
    } else {
        false
    }
}

fn strip_block_marker(line: &str) -> &str {
    for marker in ["h1. ", "h2. ", "h3. ", "h4. ", "h5. ", "h6. ", "bq. "] {
        if let Some(rest) = line.strip_prefix(marker) {
            return rest;
        }
    }
    let bullets = line.trim_start_matches(['*', '#', '-']);
    if bullets.len() < line.len() && bullets.starts_with(' ') {
        return bullets.trim_start();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_markup_is_escaped() {
        assert_eq!(escape("*bold* _it_ {code}"), r"\*bold\* \_it\_ \{code\}");
        assert_eq!(escape("[link|http://x]"), r"\[link\|http://x\]");
        assert_eq!(escape(r"C:\path\\x"), r"C:&#92;path&#92;&#92;x");
        assert_eq!(escape("h1. not a heading"), r"h1\. not a heading");
        assert_eq!(escape("bq. no quote; ok."), r"bq\. no quote; ok.");
        assert_eq!(escape("# - * lists"), r"\# \- \* lists");
        assert_eq!(escape(":) (!) :P :x"), r":\) \(\!\) \:P :x");
    }

    #[test]
    fn render_then_extract_returns_the_text() {
        let blocks = vec![
            Block::Heading {
                level: 2,
                text: "h1. *Patch* C:\\x".into(),
            },
            Block::Bullets(vec![
                vec![
                    Inline::Strong("Check: ".into()),
                    Inline::Text("vuln-mgmt".into()),
                ],
                vec![
                    Inline::Strong("Task: ".into()),
                    Inline::Text("ns/a_b".into()),
                ],
            ]),
            Block::Paragraph(vec![
                Inline::Text("- run `apt upgrade`".into()),
                Inline::Break,
                Inline::Text("* then {reboot} &amp; \\\\ check".into()),
            ]),
        ];
        let wiki = render(&blocks);
        assert!(wiki.starts_with("h2. h1\\. \\*Patch\\* C:&#92;x\n\n* *Check:* vuln\\-mgmt"));
        let total: usize = blocks.iter().map(block_len).sum();
        assert_eq!(total, jira_len(&wiki) + 2);
        assert_eq!(
            super::super::blocks::normalize(&extract_text(&wiki)),
            super::super::blocks::plain_text(&blocks)
        );
    }
}
