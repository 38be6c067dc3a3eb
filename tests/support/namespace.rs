//! A namespace of its own for each test.

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;

use super::cluster::{Cluster, cluster};
use super::crds::{ensure_crds, install as install_crds};

/// A fresh namespace on the test cluster, with an admin client whose default namespace it is.
pub struct TestNamespace {
    /// The generated namespace name (`<test>-<random suffix>`).
    pub name: String,
    /// Admin client; `Api::default_namespaced(client)` lands in this namespace.
    pub client: Client,
    cluster: &'static Cluster,
}

impl TestNamespace {
    /// Creates a namespace named after `test` (made a DNS label) on the binary's cluster, after
    /// making sure the cluster runs and the CRDs are installed and Established.
    pub async fn new(test: &str) -> Self {
        let cluster = cluster().await;
        let admin = cluster.client("default").await;
        ensure_crds(&admin).await;
        let namespace = Namespace {
            metadata: ObjectMeta {
                generate_name: Some(format!("{}-", dns_label_prefix(test))),
                labels: Some([("activesync.dev/test".to_owned(), "true".to_owned())].into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        let created = Api::<Namespace>::all(admin)
            .create(&PostParams::default(), &namespace)
            .await
            .unwrap_or_else(|e| panic!("cannot create a namespace for {test}: {e}"));
        let name = created
            .metadata
            .name
            .expect("server names a generateName object");
        let client = cluster.client(&name).await;
        Self {
            name,
            client,
            cluster,
        }
    }

    /// Creates the namespace `name` on `cluster` (CRDs installed): the same namespace as another
    /// cluster's, for tests of two installs.
    pub async fn named_on(cluster: &'static Cluster, name: &str) -> Self {
        let admin = cluster.client("default").await;
        install_crds(&admin).await;
        let namespace = Namespace {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                labels: Some([("activesync.dev/test".to_owned(), "true".to_owned())].into()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        Api::<Namespace>::all(admin)
            .create(&PostParams::default(), &namespace)
            .await
            .unwrap_or_else(|e| panic!("cannot create the namespace {name}: {e}"));
        Self {
            name: name.to_owned(),
            client: cluster.client(name).await,
            cluster,
        }
    }

    /// The cluster the namespace is on.
    pub fn cluster(&self) -> &'static Cluster {
        self.cluster
    }

    /// An `Api` for namespaced kind `K` in this namespace.
    pub fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }

    /// Creates `object`, the JSON of a `K`, in this namespace.
    pub async fn create<K>(&self, object: serde_json::Value) -> K
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + serde::Serialize
            + std::fmt::Debug,
    {
        let object: K = serde_json::from_value(object)
            .unwrap_or_else(|e| panic!("not a valid {}: {e}", K::kind(&())));
        self.api::<K>()
            .create(&PostParams::default(), &object)
            .await
            .unwrap_or_else(|e| panic!("cannot create a {}: {e}", K::kind(&())))
    }
}

impl TestNamespace {
    /// A token the API server issues for ServiceAccount `account` of this namespace (valid for
    /// an hour), to act as it and meet exactly its RBAC.
    pub async fn service_account_token(&self, account: &str) -> String {
        let request = TokenRequest {
            spec: TokenRequestSpec {
                audiences: Vec::new(),
                expiration_seconds: Some(3600),
                ..TokenRequestSpec::default()
            },
            ..TokenRequest::default()
        };
        self.api::<ServiceAccount>()
            .create_token_request(account, &PostParams::default(), &request)
            .await
            .unwrap_or_else(|e| panic!("cannot get a token for ServiceAccount {account}: {e}"))
            .status
            .expect("token status")
            .token
    }
}

impl Drop for TestNamespace {
    /// On an existing cluster, deletes the namespace. The suite's own control plane goes away
    /// whole at process exit, so its namespaces are left for it.
    fn drop(&mut self) {
        if !self.cluster.is_existing() {
            return;
        }
        let name = self.name.clone();
        // Drop cannot await; a thread with its own runtime deletes, while the test's runtime
        // (which this call may be blocking) is left alone.
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let client = Client::try_default().await?;
                Api::<Namespace>::all(client)
                    .delete(&name, &DeleteParams::background())
                    .await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .join();
        if let Ok(Err(e)) = deleted {
            eprintln!("could not delete test namespace {}: {e}", self.name);
        }
    }
}

/// `test` lower-cased, with runs of other characters than `[a-z0-9]` made one `-`, cut short
/// enough to leave room for the server's 5-character suffix within 63.
fn dns_label_prefix(test: &str) -> String {
    let mut label = String::new();
    for c in test.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_ascii_alphanumeric() {
            label.push(c);
        } else if !label.is_empty() && !label.ends_with('-') {
            label.push('-');
        }
    }
    label.truncate(50);
    let label = label.trim_end_matches('-');
    if label.is_empty() {
        "test".to_owned()
    } else {
        label.to_owned()
    }
}
