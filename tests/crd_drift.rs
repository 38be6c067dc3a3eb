//! `crds/` must hold exactly what the Rust types generate: the files are never edited by hand.

use std::collections::BTreeSet;
use std::path::Path;

use jira_active_sync::api;

#[test]
fn crds_directory_matches_the_types() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("crds");
    let mut expected = BTreeSet::new();
    for crd in api::crds() {
        let name = api::crd_file_name(&crd);
        let generated = api::crd_yaml(&crd).expect("CRD serialises");
        let on_disk = std::fs::read_to_string(dir.join(&name)).unwrap_or_default();
        assert!(
            on_disk == generated,
            "crds/{name} differs from what the types generate; regenerate with \
             `cargo run -- crd --output-dir crds`"
        );
        expected.insert(name);
    }
    let present: BTreeSet<String> = std::fs::read_dir(&dir)
        .expect("crds/ exists")
        .map(|entry| {
            entry
                .expect("readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        present, expected,
        "crds/ holds files the types do not generate"
    );
}
