//! The Helm chart's `crds/` must hold exactly what the Rust types generate, like the repository's
//! `crds/`: both come from `scripts/crds`, never from hand edits.

use std::collections::BTreeMap;
use std::path::Path;

use jira_active_sync::api;

#[test]
fn chart_crds_match_the_types() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/jira-active-sync/crds");
    let generated: BTreeMap<String, String> = api::crds()
        .iter()
        .map(|crd| {
            let yaml = api::crd_yaml(crd).expect("CRD serialises");
            (api::crd_file_name(crd), yaml)
        })
        .collect();
    let on_disk: BTreeMap<String, String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("readable entry").path();
            let name = path
                .file_name()
                .expect("entries have names")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (name, text)
        })
        .collect();
    let names = |files: &BTreeMap<String, String>| files.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&on_disk),
        names(&generated),
        "charts/jira-active-sync/crds/ holds other files than the types generate; run scripts/crds"
    );
    for (name, yaml) in &generated {
        assert!(
            on_disk[name] == *yaml,
            "charts/jira-active-sync/crds/{name} differs from what the types generate; run scripts/crds"
        );
    }
}
