//! Test-only validation against Atlassian's OpenAPI documents: finds the operation for a method and
//! concrete path, and checks request and response bodies against its schemas.
//!
//! The documents are read from `$JIRA_OPENAPI_DIR`, by default `../shared/jira-openapi` next to the
//! crate. Schemas are checked by the `jsonschema` crate (draft 4, the dialect OpenAPI 3.0 extends),
//! after rewriting what OpenAPI 3.0 adds to it: `nullable`, and `readOnly`/`writeOnly` properties,
//! which are required only in responses / requests respectively. Formats are not checked: Jira's own
//! timestamps (`2026-01-31T12:00:00.000+0000`) are not RFC 3339.
//!
//! The Data Center document is generated from Java beans and says less than Jira does in three
//! ways, corrected here (and only here) where Jira's own descriptions say otherwise:
//! - a bare `{"type": "object"}` stands for Java's `Object`: any JSON value, `null` included
//!   (issue `fields`, field values);
//! - operations its descriptions say return "a list of" beans are given one bean as schema;
//! - an entity property's `value` is typed string, and a property body `{"type": "string",
//!   "format": "json"}`, where Jira takes and returns any JSON.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Map, Value, json};

/// Which document: Cloud (REST v3) or Data Center 10.3 (REST v2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    Cloud,
    DataCenter,
}

impl From<jira_active_sync::jira::Flavor> for Flavor {
    fn from(flavor: jira_active_sync::jira::Flavor) -> Flavor {
        match flavor {
            jira_active_sync::jira::Flavor::Cloud => Flavor::Cloud,
            jira_active_sync::jira::Flavor::DataCenter => Flavor::DataCenter,
        }
    }
}

impl Flavor {
    fn file_name(self) -> &'static str {
        match self {
            Flavor::Cloud => "jira-cloud-v3.json",
            Flavor::DataCenter => "jira-dc-10.3-v2.json",
        }
    }
}

/// Whether a body goes to the server or comes back from it, which decides what `readOnly` and
/// `writeOnly` mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Direction {
    Request,
    Response,
}

/// One loaded OpenAPI document.
pub struct OpenApi {
    flavor: Flavor,
    document: Value,
    /// The path prefix of the document's server (`/rest` on Data Center, empty on Cloud).
    base_path: String,
    /// Compiled validators by direction and JSON pointer of the schema.
    validators: Mutex<HashMap<(Direction, String), Arc<jsonschema::Validator>>>,
    /// The document's component schemas rewritten for each direction.
    components: Mutex<HashMap<Direction, Arc<Value>>>,
}

/// An operation found for a method and path.
#[derive(Debug, Clone)]
pub struct Operation<'a> {
    /// The path template, as the document writes it.
    pub template: &'a str,
    pub method: String,
    pub operation: &'a Value,
}

/// The folder holding the documents.
pub fn openapi_dir() -> PathBuf {
    std::env::var_os("JIRA_OPENAPI_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/jira-openapi"))
}

/// The document of a flavor, loaded once per test binary. Panics, saying where it looked, when
/// the document is absent or unreadable.
pub fn document(flavor: Flavor) -> &'static OpenApi {
    static CLOUD: OnceLock<OpenApi> = OnceLock::new();
    static DATA_CENTER: OnceLock<OpenApi> = OnceLock::new();
    let cell = match flavor {
        Flavor::Cloud => &CLOUD,
        Flavor::DataCenter => &DATA_CENTER,
    };
    cell.get_or_init(|| OpenApi::load(flavor).unwrap_or_else(|e| panic!("{e}")))
}

impl OpenApi {
    /// Reads a flavor's document from [`openapi_dir`].
    pub fn load(flavor: Flavor) -> Result<OpenApi, String> {
        OpenApi::load_from(&openapi_dir(), flavor)
    }

    /// Reads a flavor's document from `dir`.
    pub fn load_from(dir: &std::path::Path, flavor: Flavor) -> Result<OpenApi, String> {
        let path = dir.join(flavor.file_name());
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "the Jira OpenAPI document {} cannot be read ({e}); set JIRA_OPENAPI_DIR to the folder \
                 holding jira-cloud-v3.json and jira-dc-10.3-v2.json (default ../shared/jira-openapi)",
                path.display()
            )
        })?;
        let document: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
        Ok(OpenApi::from_document(flavor, document))
    }

    fn from_document(flavor: Flavor, mut document: Value) -> OpenApi {
        if flavor == Flavor::DataCenter {
            correct_data_center(&mut document);
        }
        let base_path = document["servers"][0]["url"]
            .as_str()
            .map(server_path)
            .unwrap_or_default();
        OpenApi {
            flavor,
            document,
            base_path,
            validators: Mutex::default(),
            components: Mutex::default(),
        }
    }

    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The operation serving `method` on a concrete `path` (query string ignored). Where several
    /// templates match, the one with the most literal segments wins (`/issue/bulk` over
    /// `/issue/{issueIdOrKey}`).
    pub fn operation(&self, method: &str, path: &str) -> Result<Operation<'_>, String> {
        let path = path.split('?').next().unwrap_or(path);
        let relative = path.strip_prefix(&self.base_path).unwrap_or(path);
        let segments: Vec<&str> = relative.trim_end_matches('/').split('/').collect();
        let method = method.to_ascii_lowercase();
        let paths = self.document["paths"]
            .as_object()
            .ok_or("the document has no paths")?;
        let best = paths
            .iter()
            .filter_map(|(template, item)| {
                let literals = template_matches(template, &segments)?;
                Some((literals, template, item))
            })
            .max_by_key(|(literals, _, _)| *literals);
        let Some((_, template, item)) = best else {
            return Err(format!(
                "{:?}: no path of the document matches {path}",
                self.flavor
            ));
        };
        let operation = item
            .get(&method)
            .ok_or_else(|| format!("{:?}: {template} has no {method} operation", self.flavor))?;
        Ok(Operation {
            template,
            method,
            operation,
        })
    }

    /// Checks a response: its status must be documented (exactly, as `4XX`, or as `default`) and,
    /// where the document gives a JSON schema for it, the body must satisfy it. A documented
    /// status without a schema takes any body.
    pub fn validate_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), String> {
        let operation = self.operation(method, path)?;
        let responses = &operation.operation["responses"];
        let key = [
            status.to_string(),
            format!("{}XX", status / 100),
            "default".to_owned(),
        ]
        .into_iter()
        .find(|key| responses.get(key).is_some())
        .ok_or_else(|| {
            format!(
                "{:?}: status {status} is not documented for {} {} (documented: {})",
                self.flavor,
                method.to_uppercase(),
                operation.template,
                responses
                    .as_object()
                    .map(|r| r.keys().cloned().collect::<Vec<_>>().join(", "))
                    .unwrap_or_default()
            )
        })?;
        let pointer = format!(
            "/paths/{}/{}/responses/{}",
            escape_pointer(operation.template),
            operation.method,
            key
        );
        let Some(schema_pointer) = self.json_schema_pointer(&pointer) else {
            return Ok(());
        };
        self.validate(Direction::Response, &schema_pointer, body)
            .map_err(|errors| {
                format!(
                    "{:?}: the {status} response of {} {} does not match its schema:\n{errors}",
                    self.flavor,
                    method.to_uppercase(),
                    operation.template
                )
            })
    }

    /// Whether the document lists `status` (exactly, as `NXX`, or as `default`) for the operation.
    pub fn documents_status(&self, method: &str, path: &str, status: u16) -> Result<bool, String> {
        let operation = self.operation(method, path)?;
        let responses = &operation.operation["responses"];
        Ok([
            status.to_string(),
            format!("{}XX", status / 100),
            "default".to_owned(),
        ]
        .iter()
        .any(|key| responses.get(key).is_some()))
    }

    /// The names of the query parameters the operation documents (its own and its path's).
    pub fn query_parameters(&self, method: &str, path: &str) -> Result<Vec<String>, String> {
        let operation = self.operation(method, path)?;
        let path_item = &self.document["paths"][operation.template];
        let names = [&path_item["parameters"], &operation.operation["parameters"]]
            .into_iter()
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(|parameter| {
                let parameter = match parameter.get("$ref").and_then(Value::as_str) {
                    Some(target) => self.document.pointer(target.strip_prefix('#')?)?,
                    None => parameter,
                };
                (parameter["in"] == "query")
                    .then(|| parameter["name"].as_str().map(str::to_owned))?
            })
            .collect();
        Ok(names)
    }

    /// Checks a response body against a named component schema (`ErrorCollection`...).
    pub fn validate_component(&self, name: &str, body: &Value) -> Result<(), String> {
        let pointer = format!("/components/schemas/{}", escape_pointer(name));
        if self.document.pointer(&pointer).is_none() {
            return Err(format!(
                "{:?}: the document has no schema {name}",
                self.flavor
            ));
        }
        self.validate(Direction::Response, &pointer, body)
            .map_err(|errors| {
                format!(
                    "{:?}: the body does not match {name}:\n{errors}",
                    self.flavor
                )
            })
    }

    /// Checks a request body against the operation's JSON request schema, if it has one.
    pub fn validate_request(&self, method: &str, path: &str, body: &Value) -> Result<(), String> {
        let operation = self.operation(method, path)?;
        let pointer = format!(
            "/paths/{}/{}/requestBody",
            escape_pointer(operation.template),
            operation.method
        );
        let Some(schema_pointer) = self.json_schema_pointer(&pointer) else {
            return Err(format!(
                "{:?}: {} {} takes no JSON request body",
                self.flavor,
                method.to_uppercase(),
                operation.template
            ));
        };
        self.validate(Direction::Request, &schema_pointer, body)
            .map_err(|errors| {
                format!(
                    "{:?}: the request body of {} {} does not match its schema:\n{errors}",
                    self.flavor,
                    method.to_uppercase(),
                    operation.template
                )
            })
    }

    /// The pointer of the JSON schema under a response or request body, following a `$ref` to a
    /// shared response or request body.
    fn json_schema_pointer(&self, pointer: &str) -> Option<String> {
        let mut pointer = pointer.to_owned();
        let mut holder = self.document.pointer(&pointer)?;
        while let Some(target) = holder.get("$ref").and_then(Value::as_str) {
            pointer = target.strip_prefix('#')?.to_owned();
            holder = self.document.pointer(&pointer)?;
        }
        let content = holder.get("content")?.as_object()?;
        let media = content
            .keys()
            .find(|media| media.starts_with("application/json"))
            .or_else(|| content.keys().find(|media| media.as_str() == "*/*"))?;
        let schema_pointer = format!("{pointer}/content/{}/schema", escape_pointer(media));
        self.document.pointer(&schema_pointer)?;
        Some(schema_pointer)
    }

    fn validate(
        &self,
        direction: Direction,
        schema_pointer: &str,
        body: &Value,
    ) -> Result<(), String> {
        let validator = self.validator(direction, schema_pointer)?;
        let errors: Vec<String> = validator
            .iter_errors(body)
            .take(20)
            .map(|error| format!("  at '{}': {error}", error.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("\n"))
        }
    }

    fn validator(
        &self,
        direction: Direction,
        schema_pointer: &str,
    ) -> Result<Arc<jsonschema::Validator>, String> {
        let key = (direction, schema_pointer.to_owned());
        if let Some(validator) = lock(&self.validators).get(&key) {
            return Ok(validator.clone());
        }
        let schema = self
            .document
            .pointer(schema_pointer)
            .ok_or_else(|| format!("no schema at {schema_pointer}"))?;
        let root = json!({
            "allOf": [convert_schema(schema, direction)],
            "components": {"schemas": (*self.components(direction)).clone()},
        });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(false)
            .build(&root)
            .map_err(|e| format!("the schema at {schema_pointer} does not compile: {e}"))?;
        let validator = Arc::new(validator);
        lock(&self.validators).insert(key, validator.clone());
        Ok(validator)
    }

    fn components(&self, direction: Direction) -> Arc<Value> {
        lock(&self.components)
            .entry(direction)
            .or_insert_with(|| {
                let schemas = self.document["components"]["schemas"]
                    .as_object()
                    .map(|schemas| {
                        schemas
                            .iter()
                            .map(|(name, schema)| (name.clone(), convert_schema(schema, direction)))
                            .collect::<Map<_, _>>()
                    })
                    .unwrap_or_default();
                Arc::new(Value::Object(schemas))
            })
            .clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Operations whose 200 the Data Center document describes as "a list of" beans but types as one
/// bean. Not a rule on the wording: some "lists" are page objects (`/user/list`).
const DATA_CENTER_LISTS: &[&str] = &[
    "/api/2/user/search",
    "/api/2/project",
    "/api/2/field",
    "/api/2/issuetype",
    "/api/2/status",
    "/api/2/statuscategory",
    "/api/2/priority",
    "/api/2/resolution",
];

/// Applies the corrections listed in the module documentation.
fn correct_data_center(document: &mut Value) {
    for path in DATA_CENTER_LISTS {
        let pointer = format!(
            "/paths/{}/get/responses/200/content/application~1json/schema",
            escape_pointer(path)
        );
        if let Some(schema) = document.pointer_mut(&pointer) {
            let bean = schema.take();
            *schema = json!({"type": "array", "items": bean});
        }
    }
    if let Some(value) =
        document.pointer_mut("/components/schemas/EntityPropertyBean/properties/value")
    {
        *value = json!({});
    }
    widen_java_objects(document);
}

/// Replaces every bare `{"type": "object"}` and every `{"type": "string", "format": "json"}`
/// (annotations aside) with the empty schema.
fn widen_java_objects(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let only_annotations = |extra: &str| {
                object
                    .keys()
                    .all(|k| matches!(k.as_str(), "type" | "example" | "description") || k == extra)
            };
            let java_object = object.get("type").and_then(Value::as_str) == Some("object")
                && only_annotations("type");
            let raw_json = object.get("type").and_then(Value::as_str) == Some("string")
                && object.get("format").and_then(Value::as_str) == Some("json")
                && only_annotations("format");
            if java_object || raw_json {
                object.remove("type");
                object.remove("format");
            } else {
                object.values_mut().for_each(widen_java_objects);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(widen_java_objects),
        _ => {}
    }
}

/// The path part of a server URL: `http://{baseurl}/rest` -> `/rest`, `https://x.net` -> ``.
fn server_path(url: &str) -> String {
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    match without_scheme.find('/') {
        Some(slash) => without_scheme[slash..].trim_end_matches('/').to_owned(),
        None => String::new(),
    }
}

/// Escapes a key for a JSON pointer (RFC 6901).
fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// How many literal segments a template shares with the path, or `None` if it does not match.
fn template_matches(template: &str, segments: &[&str]) -> Option<usize> {
    let parts: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut literals = 0;
    for (part, segment) in parts.iter().zip(segments) {
        match (part.find('{'), part.rfind('}')) {
            (Some(open), Some(close)) if open < close => {
                let (prefix, suffix) = (&part[..open], &part[close + 1..]);
                if segment.len() <= prefix.len() + suffix.len()
                    || !segment.starts_with(prefix)
                    || !segment.ends_with(suffix)
                {
                    return None;
                }
            }
            _ if part == segment => literals += 1,
            _ => return None,
        }
    }
    Some(literals)
}

/// Rewrites an OpenAPI 3.0 schema into plain JSON Schema draft 4 for one direction.
fn convert_schema(schema: &Value, direction: Direction) -> Value {
    let Some(object) = schema.as_object() else {
        return schema.clone();
    };
    let mut converted = Map::new();
    for (keyword, value) in object {
        let value = match keyword.as_str() {
            "properties" | "patternProperties" => match value.as_object() {
                Some(properties) => Value::Object(
                    properties
                        .iter()
                        .map(|(name, property)| (name.clone(), convert_schema(property, direction)))
                        .collect(),
                ),
                None => value.clone(),
            },
            "items" | "additionalProperties" | "not" => convert_schema(value, direction),
            "allOf" | "anyOf" | "oneOf" => match value.as_array() {
                Some(options) => options
                    .iter()
                    .map(|o| convert_schema(o, direction))
                    .collect(),
                None => value.clone(),
            },
            // Not JSON Schema; `discriminator` and `example` are only annotations.
            "nullable" | "discriminator" | "example" | "xml" | "externalDocs" => continue,
            _ => value.clone(),
        };
        converted.insert(keyword.clone(), value);
    }
    drop_one_sided_requirements(&mut converted, object, direction);
    if object.get("nullable").and_then(Value::as_bool) == Some(true) {
        return json!({"anyOf": [{"type": "null"}, Value::Object(converted)]});
    }
    Value::Object(converted)
}

/// A `readOnly` property is never required of a request, a `writeOnly` one never of a response.
fn drop_one_sided_requirements(
    converted: &mut Map<String, Value>,
    original: &Map<String, Value>,
    direction: Direction,
) {
    let one_sided = match direction {
        Direction::Request => "readOnly",
        Direction::Response => "writeOnly",
    };
    let Some(properties) = original.get("properties").and_then(Value::as_object) else {
        return;
    };
    if let Some(required) = converted.get_mut("required").and_then(Value::as_array_mut) {
        required.retain(|name| {
            name.as_str()
                .and_then(|name| properties.get(name))
                .and_then(|property| property.get(one_sided))
                .and_then(Value::as_bool)
                != Some(true)
        });
        if required.is_empty() {
            converted.remove("required");
        }
    }
}
