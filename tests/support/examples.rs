//! The documents of `examples/`, in file order, each with the file it comes from.

use std::path::Path;

use serde::Deserialize;

/// Every YAML document of `examples/*.yaml`, files in name order.
pub fn documents() -> Vec<(String, serde_yaml::Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut documents = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable example");
        for document in serde_yaml::Deserializer::from_str(&text) {
            let value = serde_yaml::Value::deserialize(document)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            documents.push((file.display().to_string(), value));
        }
    }
    documents
}
