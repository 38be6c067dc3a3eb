//! The format-neutral shape of a description (headings, paragraphs, bullet lists of plain text runs)
//! that both the ADF and the wiki renderer walk, and the plain text both extractors agree on.

/// A run of text inside a block. User text only ever lands in these as data, never as markup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    /// Plain text (no line breaks).
    Text(String),
    /// Bold text (used for our own labels).
    Strong(String),
    /// A line break inside a block.
    Break,
}

/// One block of the description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A heading of level 1-6.
    Heading {
        /// Heading level.
        level: u8,
        /// Heading text.
        text: String,
    },
    /// A paragraph.
    Paragraph(Vec<Inline>),
    /// A bulleted list, one entry per item.
    Bullets(Vec<Vec<Inline>>),
}

/// Paragraph blocks for free user text: blank lines separate paragraphs, single newlines become breaks.
pub fn paragraphs(text: &str) -> Vec<Block> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut blocks = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.split('\n') {
        if line.trim().is_empty() {
            if !current.is_empty() {
                blocks.push(Block::Paragraph(lines(&current.join("\n"))));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        blocks.push(Block::Paragraph(lines(&current.join("\n"))));
    }
    blocks
}

/// Text runs for one piece of user text, single newlines becoming breaks.
pub fn lines(text: &str) -> Vec<Inline> {
    let mut inlines = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            inlines.push(Inline::Break);
        }
        if !line.is_empty() {
            inlines.push(Inline::Text(line.to_owned()));
        }
    }
    inlines
}

/// The canonical plain text of blocks: one line per line of text, trimmed, blank lines dropped.
/// Extractors of observed ADF or wiki produce text that [`normalize`]s to the same string.
pub fn plain_text(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Heading { text, .. } => push_line(&mut out, text),
            Block::Paragraph(inlines) => push_inlines(&mut out, inlines),
            Block::Bullets(items) => items.iter().for_each(|item| push_inlines(&mut out, item)),
        }
        out.push('\n');
    }
    normalize(&out)
}

fn push_inlines(out: &mut String, inlines: &[Inline]) {
    for inline in inlines {
        match inline {
            Inline::Text(text) | Inline::Strong(text) => out.push_str(text),
            Inline::Break => out.push('\n'),
        }
    }
    out.push('\n');
}

fn push_line(out: &mut String, text: &str) {
    out.push_str(text);
    out.push('\n');
}

/// Length as Jira measures it (Java strings count UTF-16 code units).
pub fn jira_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Trims every line, drops empty lines and unifies line endings, so that texts differing only in
/// layout whitespace compare equal.
pub fn normalize(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

impl Block {
    /// The same block with at most `chars` characters of text, cut on a character boundary; `None`
    /// when nothing would remain.
    pub fn truncated(&self, chars: usize) -> Option<Block> {
        let mut left = chars;
        let block = match self {
            Block::Heading { level, text } => Block::Heading {
                level: *level,
                text: take(text, &mut left),
            },
            Block::Paragraph(inlines) => Block::Paragraph(take_inlines(inlines, &mut left)),
            Block::Bullets(items) => Block::Bullets(
                items
                    .iter()
                    .map(|item| take_inlines(item, &mut left))
                    .filter(|item| !item.is_empty())
                    .collect(),
            ),
        };
        (chars > left).then_some(block)
    }

    /// Characters of text in the block.
    pub fn text_chars(&self) -> usize {
        let inline_chars = |inlines: &[Inline]| -> usize {
            inlines
                .iter()
                .map(|inline| match inline {
                    Inline::Text(text) | Inline::Strong(text) => text.chars().count(),
                    Inline::Break => 0,
                })
                .sum()
        };
        match self {
            Block::Heading { text, .. } => text.chars().count(),
            Block::Paragraph(inlines) => inline_chars(inlines),
            Block::Bullets(items) => items.iter().map(|item| inline_chars(item)).sum(),
        }
    }
}

fn take(text: &str, left: &mut usize) -> String {
    let taken: String = text.chars().take(*left).collect();
    *left -= taken.chars().count();
    taken
}

fn take_inlines(inlines: &[Inline], left: &mut usize) -> Vec<Inline> {
    let mut out = Vec::new();
    for inline in inlines {
        if *left == 0 {
            break;
        }
        match inline {
            Inline::Text(text) => out.push(Inline::Text(take(text, left))),
            Inline::Strong(text) => out.push(Inline::Strong(take(text, left))),
            Inline::Break => out.push(Inline::Break),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_split_on_blank_lines_and_break_on_newlines() {
        let blocks = paragraphs("one\ntwo\r\n\r\nthree\n\n\n");
        assert_eq!(
            blocks,
            vec![
                Block::Paragraph(vec![
                    Inline::Text("one".into()),
                    Inline::Break,
                    Inline::Text("two".into())
                ]),
                Block::Paragraph(vec![Inline::Text("three".into())]),
            ]
        );
        assert_eq!(plain_text(&blocks), "one\ntwo\nthree");
    }

    #[test]
    fn truncation_cuts_on_char_boundaries() {
        let block = Block::Paragraph(vec![
            Inline::Strong("Ünï".into()),
            Inline::Break,
            Inline::Text("cødé".into()),
        ]);
        assert_eq!(block.text_chars(), 7);
        assert_eq!(
            block.truncated(5),
            Some(Block::Paragraph(vec![
                Inline::Strong("Ünï".into()),
                Inline::Break,
                Inline::Text("cø".into())
            ]))
        );
        assert_eq!(block.truncated(0), None);
    }
}
