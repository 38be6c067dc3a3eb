//! Ticket descriptions: a typed model of one task or a batch of tasks, rendered to ADF (Cloud) or
//! wiki markup (Data Center) so that user text is always shown literally, cut safely below Jira's
//! field limit, with a plain-text form for drift comparison.

pub mod adf;
mod blocks;
pub mod wiki;

use jiff::civil::Date;
use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::config::Flavor;
use adf::AdfDoc;
use blocks::{Block, Inline};

/// Jira's limit on a text field such as the description.
pub const JIRA_TEXT_LIMIT: usize = 32_767;

/// What the renderer aims below, leaving room for Jira counting differently from us.
const BUDGET: usize = JIRA_TEXT_LIMIT - 767;

/// Shown at the end of a description that had to be cut.
pub const TRUNCATION_NOTE: &str = "This description was cut to fit Jira's 32,767-character limit. \
The full instructions are on the ComplianceTask objects in Kubernetes.";

/// The description of one ticket: an introduction and one section per task (one in Individual mode,
/// the group's tasks in Batch mode).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Description {
    /// Opening text (free text; may be empty).
    pub intro: String,
    /// One section per task.
    pub tasks: Vec<TaskSection>,
}

/// One task inside a description. All text is user data and is rendered literally.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskSection {
    /// Task title (single line; line breaks become spaces).
    pub title: String,
    /// The check the task belongs to.
    pub check: String,
    /// Severity (`Critical`, `High`, ...), if set.
    pub severity: Option<String>,
    /// Due date, if set.
    pub due_date: Option<Date>,
    /// Namespace of the ComplianceTask.
    pub namespace: String,
    /// Name of the ComplianceTask.
    pub name: String,
    /// `Open` or `Completed`.
    pub state: String,
    /// What to do (free text).
    pub instructions: String,
    /// Remediation guidance (free text).
    pub how_to_fix: String,
}

/// The description field value in the flavor's format (serializes as the field's JSON).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum DescriptionBody {
    /// Cloud: an ADF document.
    Adf(AdfDoc),
    /// Data Center: wiki markup.
    Wiki(String),
}

impl DescriptionBody {
    /// The JSON value to send as the `description` field.
    pub fn to_json(&self) -> Value {
        match self {
            DescriptionBody::Adf(doc) => serde_json::to_value(doc).unwrap_or(Value::Null),
            DescriptionBody::Wiki(text) => Value::String(text.clone()),
        }
    }
}

/// A description rendered for one flavor.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedDescription {
    /// The field value.
    pub body: DescriptionBody,
    /// The canonical plain text of what was rendered; equals [`observed_plain_text`] of the field
    /// as Jira returns it when nobody edited it.
    pub plain_text: String,
    /// Whether text was cut to fit the limit (the body then ends with [`TRUNCATION_NOTE`]).
    pub truncated: bool,
}

impl Description {
    /// Renders for `flavor`: ADF for Cloud, wiki markup for Data Center.
    pub fn render(&self, flavor: Flavor) -> RenderedDescription {
        let blocks = self.blocks();
        let (blocks, truncated) = match flavor {
            Flavor::Cloud => fit(blocks, adf::wrapper_len(), |b| adf::block_len(b) + 1),
            Flavor::DataCenter => fit(blocks, 0, wiki::block_len),
        };
        let body = match flavor {
            Flavor::Cloud => DescriptionBody::Adf(AdfDoc::from_blocks(&blocks)),
            Flavor::DataCenter => DescriptionBody::Wiki(wiki::render(&blocks)),
        };
        RenderedDescription {
            body,
            plain_text: blocks::plain_text(&blocks),
            truncated,
        }
    }

    /// The canonical plain text this description renders to for `flavor`.
    pub fn plain_text(&self, flavor: Flavor) -> String {
        self.render(flavor).plain_text
    }

    fn blocks(&self) -> Vec<Block> {
        let mut out = blocks::paragraphs(&self.intro);
        for task in &self.tasks {
            out.push(Block::Heading {
                level: 2,
                text: single_line(&task.title),
            });
            let detail = |label: &str, value: &str| {
                vec![
                    Inline::Strong(format!("{label}: ")),
                    Inline::Text(single_line(value)),
                ]
            };
            let mut details = vec![detail("Check", &task.check)];
            if let Some(severity) = &task.severity {
                details.push(detail("Severity", severity));
            }
            if let Some(due) = task.due_date {
                details.push(detail("Due date", &due.to_string()));
            }
            details.push(detail("Task", &format!("{}/{}", task.namespace, task.name)));
            details.push(detail("State", &task.state));
            out.push(Block::Bullets(details));
            for (heading, text) in [
                ("Instructions", &task.instructions),
                ("How to fix", &task.how_to_fix),
            ] {
                let paragraphs = blocks::paragraphs(text);
                if !paragraphs.is_empty() {
                    out.push(Block::Heading {
                        level: 3,
                        text: heading.to_owned(),
                    });
                    out.extend(paragraphs);
                }
            }
        }
        out
    }
}

/// The canonical plain text of a description field as Jira returns it: ADF (Cloud) or a wiki string
/// (Data Center); empty for no description.
pub fn observed_plain_text(field: &Value) -> String {
    ObservedText::deserialize(field)
        .map(|t| t.0)
        .unwrap_or_default()
}

/// [`observed_plain_text`] read straight from the JSON of a description field, without building
/// a tree of it.
#[derive(Debug, Default)]
pub struct ObservedText(pub String);

impl<'de> Deserialize<'de> for ObservedText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldText).map(ObservedText)
    }
}

/// A wiki string (Data Center) or an ADF document (Cloud); anything else has no text.
struct FieldText;

impl<'de> Visitor<'de> for FieldText {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a description field")
    }

    fn visit_str<E>(self, wiki: &str) -> Result<String, E> {
        Ok(blocks::normalize(&wiki::extract_text(wiki)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<String, A::Error> {
        adf::NodeText
            .visit_map(map)
            .map(|text| blocks::normalize(&text))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<String, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(String::new())
    }

    adf::no_text_in_scalars!();
}

/// A comment body: ADF on Cloud, escaped wiki on Data Center; the text shows literally either way.
pub fn comment_body(flavor: Flavor, text: &str) -> Value {
    let paragraphs = blocks::paragraphs(text);
    match flavor {
        Flavor::Cloud => DescriptionBody::Adf(AdfDoc::from_blocks(&paragraphs)).to_json(),
        Flavor::DataCenter => Value::String(wiki::render(&paragraphs)),
    }
}

fn single_line(text: &str) -> String {
    text.split(['\n', '\r', '\t'])
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Keeps whole blocks while they fit below the budget, then the part of the next block that still
/// fits, then the truncation note. Returns the blocks and whether anything was cut.
fn fit(blocks: Vec<Block>, wrapper: usize, len: impl Fn(&Block) -> usize) -> (Vec<Block>, bool) {
    let total: usize = wrapper + blocks.iter().map(&len).sum::<usize>();
    if total <= BUDGET {
        return (blocks, false);
    }
    let note = Block::Paragraph(vec![Inline::Text(TRUNCATION_NOTE.to_owned())]);
    let room = BUDGET.saturating_sub(wrapper + len(&note));
    let mut used = 0;
    let mut kept = Vec::new();
    for block in blocks {
        let block_len = len(&block);
        if used + block_len <= room {
            used += block_len;
            kept.push(block);
            continue;
        }
        if let Some(part) = largest_fitting(&block, room - used, &len) {
            kept.push(part);
        }
        break;
    }
    kept.push(note);
    (kept, true)
}

/// The longest prefix of `block` whose rendered length is at most `room` (binary search on its
/// text length).
fn largest_fitting(block: &Block, room: usize, len: &impl Fn(&Block) -> usize) -> Option<Block> {
    let (mut low, mut high) = (0, block.text_chars());
    let mut best = None;
    while low < high {
        let mid = (low + high).div_ceil(2);
        match block.truncated(mid) {
            Some(part) if len(&part) <= room => {
                best = Some(part);
                low = mid;
            }
            _ => high = mid - 1,
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn task(text: &str) -> TaskSection {
        TaskSection {
            title: format!("Patch {text}\non payments-api"),
            check: "vulnerability-management".into(),
            severity: Some("High".into()),
            due_date: Some(jiff::civil::date(2026, 12, 31)),
            namespace: "payments".into(),
            name: "cve-2026-1234".into(),
            state: "Open".into(),
            instructions: format!("Run {text}\nthen verify.\n\nSecond paragraph."),
            how_to_fix: "Upgrade *openssl* to [3.0.15]".into(),
        }
    }

    #[test]
    fn plain_text_lists_every_detail() {
        let description = Description {
            intro: "Compliance tasks for alice@example.com".into(),
            tasks: vec![task("{code}")],
        };
        let rendered = description.render(Flavor::DataCenter);
        assert!(!rendered.truncated);
        assert_eq!(
            rendered.plain_text,
            "Compliance tasks for alice@example.com\nPatch {code} on payments-api\n\
             Check: vulnerability-management\nSeverity: High\nDue date: 2026-12-31\n\
             Task: payments/cve-2026-1234\nState: Open\nInstructions\nRun {code}\nthen verify.\n\
             Second paragraph.\nHow to fix\nUpgrade *openssl* to [3.0.15]"
        );
        assert_eq!(rendered.plain_text, description.plain_text(Flavor::Cloud));
    }

    #[test]
    fn both_flavors_round_trip_to_the_same_plain_text() {
        let description = Description {
            intro: String::new(),
            tasks: vec![task("h1. *x* _y_ \\\\ [~admin] {noformat}"), task("ok")],
        };
        for flavor in [Flavor::Cloud, Flavor::DataCenter] {
            let rendered = description.render(flavor);
            assert_eq!(
                observed_plain_text(&rendered.body.to_json()),
                rendered.plain_text,
                "{flavor:?}"
            );
        }
    }

    #[test]
    fn long_batches_are_cut_below_the_limit_saying_so() {
        let huge = "x".repeat(5_000);
        let description = Description {
            intro: "Batch".into(),
            tasks: (0..20).map(|_| task(&huge)).collect(),
        };
        for flavor in [Flavor::Cloud, Flavor::DataCenter] {
            let rendered = description.render(flavor);
            let json = rendered.body.to_json();
            let size = match &json {
                Value::String(s) => blocks::jira_len(s),
                other => blocks::jira_len(&other.to_string()),
            };
            assert!(rendered.truncated);
            assert!(size < JIRA_TEXT_LIMIT, "{flavor:?}: {size}");
            assert!(size > BUDGET - 2_000, "{flavor:?} wastes room: {size}");
            assert!(rendered.plain_text.ends_with(TRUNCATION_NOTE));
            assert_eq!(observed_plain_text(&json), rendered.plain_text);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_user_text_round_trips_and_fits(
            title in "\\PC{0,80}",
            instructions in "(\\PC|\n){0,400}",
            how_to_fix in "[*_{}\\[\\]|!#\\\\h1. -]{0,200}",
            copies in 1usize..120,
        ) {
            let section = TaskSection {
                title,
                instructions,
                how_to_fix,
                ..task("t")
            };
            let description = Description { intro: "intro".into(), tasks: vec![section; copies] };
            for flavor in [Flavor::Cloud, Flavor::DataCenter] {
                let rendered = description.render(flavor);
                let json = rendered.body.to_json();
                let size = match &json {
                    Value::String(s) => blocks::jira_len(s),
                    other => blocks::jira_len(&other.to_string()),
                };
                prop_assert!(size < JIRA_TEXT_LIMIT);
                prop_assert_eq!(observed_plain_text(&json), rendered.plain_text.clone());
            }
        }
    }
}
