//! Types shared by several kinds: references, labels, conditions.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

/// The CEL rule and message that keep a reference name a DNS label, as Kubernetes names are.
const DNS_LABEL_RULE: &str = "self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')";

fn dns_label_schema(description: &str) -> Schema {
    json_schema!({
        "type": "string",
        "description": description,
        "minLength": 1,
        "maxLength": 63,
        "x-kubernetes-validations": [{
            "rule": DNS_LABEL_RULE,
            "message": "must be a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit",
        }],
    })
}

pub(crate) fn object_name_schema(_: &mut SchemaGenerator) -> Schema {
    dns_label_schema("Name of the object, in the same namespace.")
}

/// A reference to another object of the same namespace, by name.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct LocalObjectRef {
    /// Name of the object, in the same namespace.
    #[schemars(schema_with = "object_name_schema")]
    pub name: String,
}

/// The `JiraConnection` a sync uses. Fixed once set: a sync that should use another connection is a new sync.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConnectionRef {
    /// Name of the `JiraConnection`, in the same namespace.
    pub name: String,
}

impl JsonSchema for ConnectionRef {
    fn schema_name() -> Cow<'static, str> {
        "ConnectionRef".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "description": "The JiraConnection this sync uses, in the same namespace. Immutable.",
            "required": ["name"],
            "properties": {
                "name": dns_label_schema("Name of the JiraConnection, in the same namespace."),
            },
            "x-kubernetes-validations": [{
                "rule": "self == oldSelf",
                "message": "connectionRef is immutable: create a new JiraActiveSync to use another connection",
            }],
        })
    }
}

/// A key of a Secret in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
pub struct SecretKeyRef {
    /// Name of the Secret, in the same namespace.
    #[schemars(schema_with = "object_name_schema")]
    pub name: String,
    /// Key within the Secret.
    #[serde(default = "default_secret_key")]
    pub key: String,
}

fn default_secret_key() -> String {
    "secret".to_owned()
}

/// A Jira label: no whitespace, 1 to 255 characters (Jira's own rules).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(transparent)]
pub struct JiraLabel(pub String);

impl JsonSchema for JiraLabel {
    fn schema_name() -> Cow<'static, str> {
        "JiraLabel".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "maxLength": 255,
            "x-kubernetes-validations": [
                {"rule": "size(self) >= 1", "message": "a Jira label cannot be empty"},
                {"rule": "!self.matches('\\\\s')", "message": "a Jira label cannot contain spaces or other whitespace"},
            ],
        })
    }
}

/// The `status` of a condition of a given type, if the condition is there.
pub fn condition_status<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a str> {
    conditions
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| c.status.as_str())
}
