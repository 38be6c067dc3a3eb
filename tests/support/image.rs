//! The operator's image (`scripts/image`), built once per test binary and imported into the
//! single-node cluster's containerd, so Pods run it with `imagePullPolicy: Never`.

use std::path::{Path, PathBuf};

use tokio::sync::OnceCell;

use super::cluster::Cluster;

/// Where the chart takes the image from: repository and tag of the imported reference.
#[derive(Debug, Clone)]
pub struct Image {
    /// e.g. `localhost/jira-active-sync`.
    pub repository: String,
    /// e.g. `0.1.0-0123456789ab` (version and content hash).
    pub tag: String,
}

impl Image {
    /// The whole reference, `repository:tag`.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.repository, self.tag)
    }

    /// The chart values that run this image from the node's containerd.
    pub fn helm_values(&self) -> Vec<String> {
        vec![
            format!("image.repository={}", self.repository),
            format!("image.tag={}", self.tag),
            "image.pullPolicy=Never".to_owned(),
        ]
    }
}

/// The image, built and imported into `cluster` (a [`Cluster::Node`]) on first call.
pub async fn imported(cluster: &Cluster) -> &'static Image {
    static IMAGE: OnceCell<Image> = OnceCell::const_new();
    let Cluster::Node { containerd, .. } = cluster else {
        panic!(
            "images are imported into a single-node cluster only (support::cluster::node_cluster)"
        );
    };
    IMAGE.get_or_init(|| build_and_import(containerd)).await
}

async fn build_and_import(containerd: &Path) -> Image {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let output = tokio::process::Command::new(root.join("scripts/image"))
        .arg("--import")
        .arg(containerd)
        .current_dir(&root)
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run scripts/image: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "scripts/image failed ({}):\n{stderr}",
        output.status
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let reference = stdout.lines().last().unwrap_or_default().trim();
    let (repository, tag) = reference
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("scripts/image printed no image reference last:\n{stdout}"));
    Image {
        repository: repository.to_owned(),
        tag: tag.to_owned(),
    }
}
