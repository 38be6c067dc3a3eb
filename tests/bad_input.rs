//! Bad input for the description renderer: task text full of Jira wiki markup, ADF-looking JSON and
//! odd Unicode renders inert (only the renderer's own structure appears; the text reads back exactly
//! as rendered) and within Jira's field limit, however long the instructions.
//!
//! More cases: `PROPTEST_CASES=20000 cargo test --test bad_input`.

use jira_active_sync::jira::description::{JIRA_TEXT_LIMIT, TRUNCATION_NOTE, observed_plain_text};
use jira_active_sync::jira::{Description, Flavor, TaskSection};
use proptest::prelude::*;
use serde_json::Value;

/// Pieces of text that mean something to Jira or to ADF.
fn hostile_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("h1. Heading".to_owned()),
        Just("{noformat}".to_owned()),
        Just("{code:java}x{code}".to_owned()),
        Just("{panel:title=x}".to_owned()),
        Just("[click|https://evil.example]".to_owned()),
        Just("[~accountid:123]".to_owned()),
        Just("!https://evil.example/x.png!".to_owned()),
        Just("*bold* _it_ -strike- +under+ ^sup^ ~sub~ ??cite??".to_owned()),
        Just("|| a || b ||\n| 1 | 2 |".to_owned()),
        Just("\\\\ \\ \\[".to_owned()),
        Just("----".to_owned()),
        Just("# one\n* two\n- three".to_owned()),
        Just(
            r#"{"type":"doc","version":1,"content":[{"type":"mention","attrs":{"id":"x"}}]}"#
                .to_owned()
        ),
        Just(r#"{"type":"inlineCard","attrs":{"url":"https://evil.example"}}"#.to_owned()),
        Just("<script>alert(1)</script>".to_owned()),
        Just("\r\n\t\u{0}\u{200b}\u{feff}é漢字🙂".to_owned()),
        "\\PC{0,40}",
        "[ -~\n]{0,80}",
    ]
}

fn hostile_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(hostile_piece(), 0..max).prop_map(|parts| parts.join(" "))
}

fn section(title: String, instructions: String, how_to_fix: String) -> TaskSection {
    TaskSection {
        title,
        check: "check".into(),
        severity: Some("High".into()),
        due_date: None,
        namespace: "ns".into(),
        name: "task".into(),
        state: "Open".into(),
        instructions,
        how_to_fix,
    }
}

/// The ADF node types and marks the renderer itself uses; anything else came from user text.
const NODES: &[&str] = &[
    "doc",
    "paragraph",
    "heading",
    "bulletList",
    "listItem",
    "text",
    "hardBreak",
];
const MARKS: &[&str] = &["strong"];

fn check_adf(node: &Value) -> Result<(), String> {
    let kind = node["type"].as_str().unwrap_or("<none>");
    if !NODES.contains(&kind) {
        return Err(format!("node type {kind} in {node}"));
    }
    for mark in node["marks"].as_array().into_iter().flatten() {
        let mark = mark["type"].as_str().unwrap_or("<none>");
        if !MARKS.contains(&mark) {
            return Err(format!("mark {mark}"));
        }
    }
    for child in node["content"].as_array().into_iter().flatten() {
        check_adf(child)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn user_text_renders_inert_on_both_flavors(
        intro in hostile_text(6),
        title in hostile_text(3),
        instructions in hostile_text(12),
        how_to_fix in hostile_text(12),
    ) {
        let description = Description {
            intro,
            tasks: vec![section(title, instructions, how_to_fix)],
        };
        for flavor in [Flavor::Cloud, Flavor::DataCenter] {
            let rendered = description.render(flavor);
            let field = rendered.body.to_json();
            if flavor == Flavor::Cloud {
                prop_assert_eq!(check_adf(&field), Ok(()));
            }
            // What Jira shows reads back as exactly what was rendered: no user text turned into markup.
            prop_assert_eq!(observed_plain_text(&field), rendered.plain_text.clone(), "{:?}", flavor);
            prop_assert!(!rendered.truncated);
        }
    }

}

proptest! {
    // Each case renders up to a few hundred thousand characters.
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn very_long_instructions_are_cut_cleanly(
        unit in "\\PC{1,8}",
        repeat in 3_000usize..8_000,
        tasks in 1usize..4,
    ) {
        let long = unit.repeat(repeat);
        let description = Description {
            intro: String::new(),
            tasks: (0..tasks)
                .map(|i| section(format!("task {i}"), long.clone(), long.clone()))
                .collect(),
        };
        for flavor in [Flavor::Cloud, Flavor::DataCenter] {
            let rendered = description.render(flavor);
            let field = rendered.body.to_json();
            let length = match &field {
                Value::String(wiki) => wiki.chars().count(),
                other => observed_plain_text(other).chars().count(),
            };
            prop_assert!(length <= JIRA_TEXT_LIMIT, "{flavor:?}: {length} characters");
            if rendered.truncated {
                prop_assert!(rendered.plain_text.contains(TRUNCATION_NOTE), "{:?}: no truncation note", flavor);
            }
            prop_assert_eq!(observed_plain_text(&field), rendered.plain_text.clone());
        }
    }
}
