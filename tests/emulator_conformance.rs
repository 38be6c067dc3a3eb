//! Conformance of the Jira emulator with Atlassian's OpenAPI documents: every emulated operation is
//! exercised over real HTTP on both flavors (Cloud through REST v3, Data Center through REST v2),
//! error cases included, and every request sent and response received is checked against the
//! official document of its flavor.
//!
//! A failure is a response (or request) that contradicts the document: a body not matching the
//! schema of its documented status, or a success status the document does not list. Error statuses
//! Jira answers but the document leaves out (401 and 404 on many Data Center operations, 410 on the
//! removed v3 `/search`), and the admin webhook API, which neither document covers, are printed as
//! gaps of the documents; their bodies must still be Jira's `ErrorCollection`.

mod support;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Mutex;

use jira_emulator::{Emulator, EmulatorConfig, EmulatorHandle, Flavor, Seed};
use reqwest::{Client, Method};
use serde_json::{Value, json};
use support::openapi::{self, OpenApi, document};

/// What a request is meant to be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Intent {
    /// A request the document describes: its body is checked too.
    Valid,
    /// Wrong on purpose: its body is not checked.
    Invalid,
    /// Refused as a whole (too many items): Jira answers its `ErrorCollection`, where the
    /// document only describes the per-element failures of the same status.
    RefusedWhole,
}

/// How a request authenticates.
#[derive(Clone, Copy)]
enum Auth {
    Admin,
    Pat,
    /// May browse OPS but not create or delete there.
    Alice,
    /// May not browse OPS.
    Bob,
    Nobody,
}

/// An emulator of one flavor with the document it must conform to.
struct Site {
    handle: EmulatorHandle,
    http: Client,
    document: &'static OpenApi,
    /// `/rest/api/3` on Cloud, `/rest/api/2` on Data Center.
    api: &'static str,
    /// Contradictions of the document.
    failures: Mutex<Vec<String>>,
    /// Answers the document does not cover.
    gaps: Mutex<BTreeSet<String>>,
    /// Every (method, path template) exercised.
    covered: Mutex<BTreeSet<(String, String)>>,
}

impl Site {
    async fn start(flavor: Flavor) -> Site {
        let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let mut seed = Seed::default();
        let ops = &mut seed.projects[1];
        ops.permissions.browse = Some(vec!["admin@example.com".into(), "alice@example.com".into()]);
        ops.permissions.create = Some(vec!["admin@example.com".into()]);
        ops.permissions.edit = Some(vec!["admin@example.com".into()]);
        ops.permissions.delete = Some(vec!["admin@example.com".into()]);
        seed.users[1].api_token = Some("alice-token".into());
        seed.users[2].api_token = Some("bob-token".into());
        let config = EmulatorConfig {
            flavor,
            seed,
            ..EmulatorConfig::default()
        };
        let (document, api) = match flavor {
            Flavor::Cloud => (document(openapi::Flavor::Cloud), "/rest/api/3"),
            Flavor::Datacenter => (document(openapi::Flavor::DataCenter), "/rest/api/2"),
        };
        Site {
            handle: Emulator::start(listen, config).await.unwrap(),
            http: Client::new(),
            document,
            api,
            failures: Mutex::default(),
            gaps: Mutex::default(),
            covered: Mutex::default(),
        }
    }

    fn cloud(&self) -> bool {
        self.api.ends_with('3')
    }

    /// The full path of an API path (`/issue` -> `/rest/api/3/issue`); `/rest/...` stays.
    fn path(&self, path: &str) -> String {
        if path.starts_with("/rest/") {
            path.to_owned()
        } else {
            format!("{}{path}", self.api)
        }
    }

    /// Sends a request whose body, if any, should satisfy the document.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.send(Auth::Admin, method, path, body, Intent::Valid)
            .await
    }

    /// Sends a request that is wrong on purpose: its body is not checked.
    async fn call_bad(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.send(Auth::Admin, method, path, body, Intent::Invalid)
            .await
    }

    /// Sends a request that is refused as a whole (see [`Intent::RefusedWhole`]).
    async fn call_refused_whole(&self, method: Method, path: &str, body: Value) -> (u16, Value) {
        self.send(Auth::Admin, method, path, Some(body), Intent::RefusedWhole)
            .await
    }

    async fn send(
        &self,
        auth: Auth,
        method: Method,
        path: &str,
        body: Option<Value>,
        intent: Intent,
    ) -> (u16, Value) {
        let path = self.path(path);
        let name = format!("{method} {path}");
        let documented = self.document.operation(method.as_str(), &path).is_ok();
        if let (Some(body), Intent::Valid, true) = (&body, intent, documented)
            && let Err(error) = self.document.validate_request(method.as_str(), &path, body)
        {
            self.fail(format!("request {name}: {error}"));
        }
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.handle.base_url()));
        request = match auth {
            Auth::Admin => request.basic_auth("admin@example.com", Some("emulator-token")),
            Auth::Pat => request.bearer_auth("emulator-pat"),
            Auth::Alice => request.basic_auth("alice@example.com", Some("alice-token")),
            Auth::Bob => request.basic_auth("bob@example.com", Some("bob-token")),
            Auth::Nobody => request,
        };
        if let Some(body) = &body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let media_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.unwrap();
        let answer = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        // The document's JSON schemas describe `application/json` answers only: an error in
        // another media type (Cloud's plain-text 401) is a gap of the document, a success one a
        // divergence.
        if !answer.is_null() && !media_type.starts_with("application/json") {
            if status >= 400 {
                self.gap(format!(
                    "{method} {}: Jira answers {status} as {media_type}; the document's schemas are JSON",
                    template_of(&path)
                ));
            } else {
                self.fail(format!(
                    "{name} answered {status} as {media_type}, not JSON: {answer}"
                ));
            }
            return (status, answer);
        }
        if intent == Intent::RefusedWhole && status >= 400 {
            self.gap(format!(
                "{method} {}: a refusal of the whole request is Jira's ErrorCollection; the document \
                 describes only per-element failures for {status}",
                template_of(&path)
            ));
            self.check_error_body(&method, &path, status, &answer);
        } else {
            self.check_response(&method, &path, status, &answer);
        }
        (status, answer)
    }

    fn check_response(&self, method: &Method, path: &str, status: u16, body: &Value) {
        let operation = match self.document.operation(method.as_str(), path) {
            Ok(operation) => operation,
            Err(error) => {
                self.gap(format!("{method} {}: {error}", template_of(path)));
                if status >= 400 {
                    self.check_error_body(method, path, status, body);
                }
                return;
            }
        };
        self.covered
            .lock()
            .unwrap()
            .insert((method.to_string(), operation.template.to_owned()));
        match self
            .document
            .documents_status(method.as_str(), path, status)
        {
            Ok(true) => {
                if let Err(error) =
                    self.document
                        .validate_response(method.as_str(), path, status, body)
                {
                    self.fail(format!("{method} {path}: {error}\nbody: {body}"));
                }
            }
            Ok(false) if status >= 400 => {
                self.gap(format!(
                    "{method} {}: Jira answers {status}, which the document does not list",
                    operation.template
                ));
                self.check_error_body(method, path, status, body);
            }
            Ok(false) => self.fail(format!(
                "{method} {path}: success status {status} is not documented for {}",
                operation.template
            )),
            Err(error) => self.fail(error),
        }
    }

    fn check_error_body(&self, method: &Method, path: &str, status: u16, body: &Value) {
        if let Err(error) = self.document.validate_component("ErrorCollection", body) {
            self.fail(format!("{method} {path} ({status}): {error}\nbody: {body}"));
        }
    }

    fn fail(&self, failure: String) {
        self.failures.lock().unwrap().push(failure);
    }

    fn gap(&self, gap: String) {
        self.gaps.lock().unwrap().insert(gap);
    }

    /// Expects a status, recording a failure otherwise.
    fn expect(&self, what: &str, got: (u16, Value), status: u16) -> Value {
        if got.0 != status {
            self.fail(format!(
                "{what}: expected {status}, got {} {}",
                got.0, got.1
            ));
        }
        got.1
    }

    fn description(&self, text: &str) -> Value {
        if self.cloud() {
            json!({"type": "doc", "version": 1, "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
        } else {
            json!(text)
        }
    }

    fn comment_body(&self, text: &str) -> Value {
        json!({"body": self.description(text)})
    }

    /// Prints the gaps, then fails listing every contradiction, and checks that every operation
    /// in `expected` was exercised.
    fn finish(self, expected: &[(&str, &str)]) {
        let flavor = self.api;
        for gap in self.gaps.lock().unwrap().iter() {
            println!("document gap ({flavor}): {gap}");
        }
        let covered = self.covered.lock().unwrap().clone();
        let missing: Vec<String> = expected
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .filter(|operation| !covered.contains(operation))
            .map(|(m, p)| format!("{m} {p}"))
            .collect();
        let failures = self.failures.lock().unwrap().clone();
        assert!(
            missing.is_empty(),
            "operations not exercised on {flavor}: {missing:#?}"
        );
        assert!(
            failures.is_empty(),
            "{} divergences from the {flavor} document:\n\n{}",
            failures.len(),
            failures.join("\n\n")
        );
    }
}

/// The path with query string cut, for naming it in gaps.
fn template_of(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

fn task(site: &Site, summary: &str) -> Value {
    json!({"fields": {
        "project": {"key": "SEC"},
        "issuetype": {"name": "Task"},
        "summary": summary,
        "labels": ["compliance", "conformance"],
        "description": site.description("What to do, and how to fix it."),
    }})
}

/// Exercises every operation the emulator serves, on the flavor the site runs.
async fn exercise(site: &Site) {
    // Authentication.
    site.expect(
        "myself without credentials",
        site.send(Auth::Nobody, Method::GET, "/myself", None, Intent::Invalid)
            .await,
        401,
    );
    site.expect("myself", site.call(Method::GET, "/myself", None).await, 200);
    site.expect(
        "myself by PAT",
        site.send(Auth::Pat, Method::GET, "/myself", None, Intent::Valid)
            .await,
        200,
    );
    site.expect(
        "serverInfo",
        site.call(Method::GET, "/serverInfo", None).await,
        200,
    );
    site.expect("fields", site.call(Method::GET, "/field", None).await, 200);
    for catalogue in [
        "/issuetype",
        "/status",
        "/statuscategory",
        "/priority",
        "/resolution",
    ] {
        site.expect(
            catalogue,
            site.call(Method::GET, catalogue, None).await,
            200,
        );
    }
    if site.cloud() {
        let page = site.expect(
            "priority search",
            site.call(Method::GET, "/priority/search?startAt=1&maxResults=2", None)
                .await,
            200,
        );
        if page["values"].as_array().map(Vec::len) != Some(2) {
            site.fail(format!("priority search did not page: {page}"));
        }
    }

    // Users.
    let by_email = if site.cloud() {
        "/user/search?query=alice%40example.com"
    } else {
        "/user/search?username=alice"
    };
    let users = site.expect(
        "user search",
        site.call(Method::GET, by_email, None).await,
        200,
    );
    if users.as_array().is_none_or(|u| u.is_empty()) {
        site.fail(format!("user search found nobody: {users}"));
    }
    site.expect(
        "user search without a query",
        site.call_bad(Method::GET, "/user/search", None).await,
        400,
    );

    // Projects and create metadata.
    site.expect(
        "projects",
        site.call(Method::GET, "/project", None).await,
        200,
    );
    if site.cloud() {
        site.expect(
            "project search",
            site.call(Method::GET, "/project/search", None).await,
            200,
        );
    }
    site.expect(
        "project",
        site.call(Method::GET, "/project/SEC", None).await,
        200,
    );
    site.expect(
        "unknown project",
        site.call_bad(Method::GET, "/project/NOPE", None).await,
        404,
    );
    let types = site.expect(
        "createmeta issue types",
        site.call(Method::GET, "/issue/createmeta/SEC/issuetypes", None)
            .await,
        200,
    );
    let type_list = types
        .get("issueTypes")
        .or_else(|| types.get("values"))
        .cloned()
        .unwrap_or_default();
    let task_type = type_list
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "Task"))
        .and_then(|t| t["id"].as_str())
        .unwrap_or("10001")
        .to_owned();
    let epic_type = type_list
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "Epic"))
        .and_then(|t| t["id"].as_str())
        .unwrap_or("10000")
        .to_owned();
    site.expect(
        "createmeta fields",
        site.call(
            Method::GET,
            &format!("/issue/createmeta/SEC/issuetypes/{task_type}"),
            None,
        )
        .await,
        200,
    );
    let epic_fields = site.expect(
        "createmeta epic fields",
        site.call(
            Method::GET,
            &format!("/issue/createmeta/SEC/issuetypes/{epic_type}"),
            None,
        )
        .await,
        200,
    );
    site.expect(
        "createmeta of an unknown project",
        site.call_bad(Method::GET, "/issue/createmeta/NOPE/issuetypes", None)
            .await,
        404,
    );

    // Create, with every kind of refusal.
    let created = site.expect(
        "create",
        site.call(
            Method::POST,
            "/issue",
            Some(task(site, "Patch CVE-2026-1234")),
        )
        .await,
        201,
    );
    let key = created["key"].as_str().unwrap_or("SEC-2").to_owned();
    let mut with_epic = task(site, "Child of the epic");
    if site.cloud() {
        with_epic["fields"]["parent"] = json!({"key": "SEC-1"});
    } else {
        let task_fields = site
            .call(
                Method::GET,
                &format!("/issue/createmeta/SEC/issuetypes/{task_type}"),
                None,
            )
            .await
            .1;
        let epic_link = task_fields
            .get("values")
            .or_else(|| task_fields.get("fields"))
            .and_then(Value::as_array)
            .and_then(|f| f.iter().find(|f| f["name"] == "Epic Link"))
            .and_then(|f| f["fieldId"].as_str())
            .map(str::to_owned);
        match epic_link {
            Some(field) => with_epic["fields"][field] = json!("SEC-1"),
            None => site.fail(format!("Data Center createmeta lists no Epic Link field: {task_fields}; epic fields: {epic_fields}")),
        }
    }
    site.expect(
        "create under the epic",
        site.call(Method::POST, "/issue", Some(with_epic)).await,
        201,
    );
    let mut with_property = task(site, "With a property");
    with_property["properties"] = json!([{"key": "sync.meta", "value": {"sync": "vuln-sync"}}]);
    site.expect(
        "create with a property",
        site.call(Method::POST, "/issue", Some(with_property)).await,
        201,
    );
    let mut no_summary = task(site, "");
    no_summary["fields"]
        .as_object_mut()
        .unwrap()
        .remove("summary");
    site.expect(
        "create without summary",
        site.call_bad(Method::POST, "/issue", Some(no_summary))
            .await,
        400,
    );
    let mut spaced = task(site, "x");
    spaced["fields"]["labels"] = json!(["has space"]);
    site.expect(
        "create with a spaced label",
        site.call_bad(Method::POST, "/issue", Some(spaced)).await,
        400,
    );
    let long = task(site, &"x".repeat(256));
    site.expect(
        "create with a long summary",
        site.call_bad(Method::POST, "/issue", Some(long)).await,
        400,
    );
    let mut unknown = task(site, "x");
    unknown["fields"]["project"] = json!({"key": "NOPE"});
    site.expect(
        "create in an unknown project",
        site.call_bad(Method::POST, "/issue", Some(unknown)).await,
        400,
    );
    let mut off_screen = task(site, "x");
    off_screen["fields"]["environment"] = json!("prod");
    site.expect(
        "create with a field off the screen",
        site.call_bad(Method::POST, "/issue", Some(off_screen))
            .await,
        400,
    );

    // Bulk create: partial failure, and too many.
    let mut broken = task(site, "broken");
    broken["fields"]["labels"] = json!(["bad label"]);
    let bulk = json!({"issueUpdates": [task(site, "bulk one"), broken, task(site, "bulk two")]});
    let answer = site.expect(
        "bulk create",
        site.call(Method::POST, "/issue/bulk", Some(bulk)).await,
        201,
    );
    if answer["errors"][0]["failedElementNumber"] != 1 {
        site.fail(format!("bulk create did not report element 1: {answer}"));
    }
    let too_many =
        json!({"issueUpdates": (0..51).map(|n| task(site, &format!("n{n}"))).collect::<Vec<_>>()});
    site.expect(
        "bulk create of 51",
        site.call_refused_whole(Method::POST, "/issue/bulk", too_many)
            .await,
        400,
    );
    let all_bad = json!({"issueUpdates": [no_summary_issue(site)]});
    site.expect(
        "bulk create with every element bad",
        site.call_bad(Method::POST, "/issue/bulk", Some(all_bad))
            .await,
        400,
    );

    // Read, bulk fetch, edit.
    site.expect(
        "get",
        site.call(Method::GET, &format!("/issue/{key}"), None).await,
        200,
    );
    site.expect(
        "get with fields",
        site.call(
            Method::GET,
            &format!("/issue/{key}?fields=summary,status"),
            None,
        )
        .await,
        200,
    );
    site.expect(
        "get a missing issue",
        site.call_bad(Method::GET, "/issue/SEC-99999", None).await,
        404,
    );
    if site.cloud() {
        let fetch =
            json!({"issueIdsOrKeys": [key, "SEC-1", "SEC-99999"], "fields": ["summary", "status"]});
        site.expect(
            "bulkfetch",
            site.call(Method::POST, "/issue/bulkfetch", Some(fetch))
                .await,
            200,
        );
        let too_many =
            json!({"issueIdsOrKeys": (0..101).map(|n| format!("SEC-{n}")).collect::<Vec<_>>()});
        site.expect(
            "bulkfetch of 101",
            site.call_bad(Method::POST, "/issue/bulkfetch", Some(too_many))
                .await,
            400,
        );
    }
    let edit = json!({"fields": {"summary": "Patch CVE-2026-1234 now"}, "update": {"labels": [{"add": "urgent"}]}});
    site.expect(
        "edit",
        site.call(Method::PUT, &format!("/issue/{key}"), Some(edit))
            .await,
        204,
    );
    let bad_edit = json!({"fields": {"labels": ["bad label"]}});
    site.expect(
        "edit with a spaced label",
        site.call_bad(Method::PUT, &format!("/issue/{key}"), Some(bad_edit))
            .await,
        400,
    );
    site.expect(
        "edit a missing issue",
        site.call(
            Method::PUT,
            "/issue/SEC-99999",
            Some(json!({"fields": {"summary": "x"}})),
        )
        .await,
        404,
    );

    site.expect(
        "editmeta",
        site.call(Method::GET, &format!("/issue/{key}/editmeta"), None)
            .await,
        200,
    );
    site.expect(
        "editmeta of a missing issue",
        site.call_bad(Method::GET, "/issue/SEC-99999/editmeta", None)
            .await,
        404,
    );

    // Workflow.
    let transitions = site.expect(
        "transitions",
        site.call(Method::GET, &format!("/issue/{key}/transitions"), None)
            .await,
        200,
    );
    let start = transitions["transitions"]
        .as_array()
        .and_then(|t| {
            t.iter()
                .find(|t| t["to"]["statusCategory"]["key"] == "indeterminate")
        })
        .and_then(|t| t["id"].as_str())
        .unwrap_or("21")
        .to_owned();
    let go = json!({"transition": {"id": start}});
    site.expect(
        "transition",
        site.call(Method::POST, &format!("/issue/{key}/transitions"), Some(go))
            .await,
        204,
    );
    let done = site
        .call(
            Method::GET,
            &format!("/issue/{key}/transitions?expand=transitions.fields"),
            None,
        )
        .await
        .1;
    let finish = done["transitions"]
        .as_array()
        .and_then(|t| {
            t.iter()
                .find(|t| t["to"]["statusCategory"]["key"] == "done")
        })
        .and_then(|t| t["id"].as_str())
        .unwrap_or("31")
        .to_owned();
    let close = json!({"transition": {"id": finish}, "fields": {"resolution": {"name": "Done"}}});
    site.expect(
        "transition to done",
        site.call(
            Method::POST,
            &format!("/issue/{key}/transitions"),
            Some(close),
        )
        .await,
        204,
    );
    let unavailable = json!({"transition": {"id": "99999"}});
    site.expect(
        "unavailable transition",
        site.call(
            Method::POST,
            &format!("/issue/{key}/transitions"),
            Some(unavailable),
        )
        .await,
        400,
    );
    site.expect(
        "transitions of a missing issue",
        site.call_bad(Method::GET, "/issue/SEC-99999/transitions", None)
            .await,
        404,
    );

    // Comments.
    let comment = site.expect(
        "add comment",
        site.call(
            Method::POST,
            &format!("/issue/{key}/comment"),
            Some(site.comment_body("Fixed by the operator.")),
        )
        .await,
        201,
    );
    let comment_id = comment["id"].as_str().unwrap_or("10000").to_owned();
    site.expect(
        "comments",
        site.call(Method::GET, &format!("/issue/{key}/comment"), None)
            .await,
        200,
    );
    site.expect(
        "comment",
        site.call(
            Method::GET,
            &format!("/issue/{key}/comment/{comment_id}"),
            None,
        )
        .await,
        200,
    );
    site.expect(
        "update comment",
        site.call(
            Method::PUT,
            &format!("/issue/{key}/comment/{comment_id}"),
            Some(site.comment_body("Edited.")),
        )
        .await,
        200,
    );
    site.expect(
        "delete comment",
        site.call(
            Method::DELETE,
            &format!("/issue/{key}/comment/{comment_id}"),
            None,
        )
        .await,
        204,
    );
    site.expect(
        "missing comment",
        site.call_bad(
            Method::GET,
            &format!("/issue/{key}/comment/{comment_id}"),
            None,
        )
        .await,
        404,
    );
    site.expect(
        "comment without body",
        site.call_bad(
            Method::POST,
            &format!("/issue/{key}/comment"),
            Some(json!({})),
        )
        .await,
        400,
    );

    // Entity properties.
    let property = format!("/issue/{key}/properties/sync.meta");
    site.expect(
        "set property",
        site.call(
            Method::PUT,
            &property,
            Some(json!({"sync": "vuln-sync", "task": "t1"})),
        )
        .await,
        201,
    );
    site.expect(
        "replace property",
        site.call(Method::PUT, &property, Some(json!({"sync": "vuln-sync"})))
            .await,
        200,
    );
    site.expect(
        "property keys",
        site.call(Method::GET, &format!("/issue/{key}/properties"), None)
            .await,
        200,
    );
    site.expect(
        "property",
        site.call(Method::GET, &property, None).await,
        200,
    );
    site.expect(
        "delete property",
        site.call(Method::DELETE, &property, None).await,
        204,
    );
    site.expect(
        "missing property",
        site.call_bad(Method::GET, &property, None).await,
        404,
    );

    // Search.
    if site.cloud() {
        let page = site.expect(
            "search/jql GET",
            site.call(Method::GET, "/search/jql?jql=project%20%3D%20SEC%20ORDER%20BY%20key&maxResults=2&fields=summary,status", None).await,
            200,
        );
        if let Some(token) = page["nextPageToken"].as_str() {
            let next = json!({"jql": "project = SEC ORDER BY key", "maxResults": 2, "nextPageToken": token, "fields": ["summary"]});
            site.expect(
                "search/jql POST next page",
                site.call(Method::POST, "/search/jql", Some(next)).await,
                200,
            );
        } else {
            site.fail(format!(
                "search/jql gave no nextPageToken for a partial page: {page}"
            ));
        }
        let post = json!({"jql": "labels = conformance AND statusCategory != Done", "fields": ["*all"], "maxResults": 50});
        site.expect(
            "search/jql POST",
            site.call(Method::POST, "/search/jql", Some(post)).await,
            200,
        );
        site.expect(
            "search/jql with bad JQL",
            site.call_bad(
                Method::POST,
                "/search/jql",
                Some(json!({"jql": "colour = red"})),
            )
            .await,
            400,
        );
        site.expect(
            "removed v3 search",
            site.call_bad(Method::GET, "/search?jql=project%20%3D%20SEC", None)
                .await,
            410,
        );
        site.expect(
            "removed v3 search POST",
            site.call_bad(
                Method::POST,
                "/search",
                Some(json!({"jql": "project = SEC"})),
            )
            .await,
            410,
        );
    } else {
        site.expect(
            "search GET",
            site.call(
                Method::GET,
                "/search?jql=project%20%3D%20SEC&startAt=0&maxResults=2&fields=summary,status",
                None,
            )
            .await,
            200,
        );
        let post = json!({"jql": "labels = conformance ORDER BY created DESC", "startAt": 1, "maxResults": 2, "fields": ["summary"]});
        site.expect(
            "search POST",
            site.call(Method::POST, "/search", Some(post)).await,
            200,
        );
        site.expect(
            "search with bad JQL",
            site.call_bad(Method::GET, "/search?jql=project%20%3D", None)
                .await,
            400,
        );
    }
    missing_keys(site).await;

    // Admin webhooks (in neither document: checked for Jira's error shape only).
    let hook = json!({"name": "conformance", "url": "http://127.0.0.1:9/hook", "events": ["jira:issue_updated"],
                      "filters": {"issue-related-events-section": "project = SEC"}, "secret": "s3cret"});
    let registered = site.expect(
        "register webhook",
        site.call(
            Method::POST,
            "/rest/webhooks/1.0/webhook",
            Some(hook.clone()),
        )
        .await,
        201,
    );
    let hook_path = registered["self"]
        .as_str()
        .and_then(|url| url.find("/rest/").map(|at| url[at..].to_owned()))
        .unwrap_or_else(|| "/rest/webhooks/1.0/webhook/1".to_owned());
    site.expect(
        "webhooks",
        site.call(Method::GET, "/rest/webhooks/1.0/webhook", None)
            .await,
        200,
    );
    site.expect(
        "webhook",
        site.call(Method::GET, &hook_path, None).await,
        200,
    );
    site.expect(
        "update webhook",
        site.call(Method::PUT, &hook_path, Some(hook)).await,
        200,
    );
    site.expect(
        "webhook with a bad URL",
        site.call_bad(
            Method::POST,
            "/rest/webhooks/1.0/webhook",
            Some(json!({"name": "x", "url": "nope", "events": []})),
        )
        .await,
        400,
    );
    site.expect(
        "delete webhook",
        site.call(Method::DELETE, &hook_path, None).await,
        204,
    );

    permissions(site).await;
    if site.cloud() {
        rate_limits(site).await;
    }

    // Delete.
    site.expect(
        "delete",
        site.call(Method::DELETE, &format!("/issue/{key}"), None)
            .await,
        204,
    );
    site.expect(
        "delete again",
        site.call_bad(Method::DELETE, &format!("/issue/{key}"), None)
            .await,
        404,
    );
    site.expect(
        "deleted issue",
        site.call_bad(Method::GET, &format!("/issue/{key}"), None)
            .await,
        404,
    );
}

/// A missing issue key fails a search, except in a Cloud `key in (...)` list, which answers the
/// issues it finds.
async fn missing_keys(site: &Site) {
    let (path, single, list) = if site.cloud() {
        (
            "/search/jql",
            json!({"jql": "key = SEC-99999"}),
            json!({"jql": "key in (SEC-1, SEC-99999)", "fields": ["summary"]}),
        )
    } else {
        (
            "/search",
            json!({"jql": "key = SEC-99999"}),
            json!({"jql": "key in (SEC-1, SEC-99999)", "fields": ["summary"]}),
        )
    };
    let refused = site.expect(
        "search for a missing key",
        site.call(Method::POST, path, Some(single)).await,
        400,
    );
    let message = if site.cloud() {
        "Issue does not exist or you do not have permission to see it."
    } else {
        "An issue with key 'SEC-99999' does not exist for field 'key'."
    };
    if refused["errorMessages"][0] != message {
        site.fail(format!("search for a missing key answered {refused}"));
    }
    if site.cloud() {
        let found = site.expect(
            "search for a list with a missing key",
            site.call(Method::POST, path, Some(list)).await,
            200,
        );
        let keys: Vec<&str> = found["issues"]
            .as_array()
            .map(|issues| issues.iter().filter_map(|i| i["key"].as_str()).collect())
            .unwrap_or_default();
        if keys != ["SEC-1"] {
            site.fail(format!("key in (SEC-1, SEC-99999) found {keys:?}"));
        }
    } else {
        site.expect(
            "search for a list with a missing key",
            site.call(Method::POST, path, Some(list)).await,
            400,
        );
    }
}

/// Every operation refuses a caller without credentials, and project permissions hide (404) or
/// refuse (403) as Jira does.
async fn permissions(site: &Site) {
    let created = site
        .call(
            Method::POST,
            "/issue",
            Some(json!({"fields": {
        "project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "ops work"}})),
        )
        .await;
    let ops_key = site.expect("create in OPS", created, 201)["key"]
        .as_str()
        .unwrap_or("OPS-1")
        .to_owned();
    let issue = format!("/issue/{ops_key}");
    let anonymous: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/serverInfo".into(), None),
        (Method::GET, "/user/search?query=alice".into(), None),
        (Method::GET, "/project".into(), None),
        (Method::GET, "/project/SEC".into(), None),
        (Method::GET, "/issue/createmeta/SEC/issuetypes".into(), None),
        (Method::POST, "/issue".into(), Some(task(site, "anonymous"))),
        (
            Method::POST,
            "/issue/bulk".into(),
            Some(json!({"issueUpdates": [task(site, "anonymous")]})),
        ),
        (Method::GET, issue.clone(), None),
        (
            Method::PUT,
            issue.clone(),
            Some(json!({"fields": {"summary": "x"}})),
        ),
        (Method::DELETE, issue.clone(), None),
        (Method::GET, format!("{issue}/transitions"), None),
        (Method::GET, format!("{issue}/comment"), None),
        (Method::GET, format!("{issue}/properties"), None),
        (Method::GET, "/search?jql=project%20%3D%20SEC".into(), None),
    ];
    for (method, path, body) in anonymous {
        let what = format!("{method} {path} without credentials");
        site.expect(
            &what,
            site.send(Auth::Nobody, method, &path, body, Intent::Invalid)
                .await,
            401,
        );
    }
    if site.cloud() {
        let what = "search/jql without credentials";
        site.expect(
            what,
            site.send(
                Auth::Nobody,
                Method::GET,
                "/search/jql?jql=project%20%3D%20SEC",
                None,
                Intent::Invalid,
            )
            .await,
            401,
        );
    }

    let ops_task = json!({"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "x"}});
    site.expect(
        "alice creates in OPS",
        site.send(
            Auth::Alice,
            Method::POST,
            "/issue",
            Some(ops_task),
            Intent::Valid,
        )
        .await,
        403,
    );
    site.expect(
        "alice reads in OPS",
        site.send(Auth::Alice, Method::GET, &issue, None, Intent::Valid)
            .await,
        200,
    );
    let edit = json!({"fields": {"summary": "renamed"}});
    site.expect(
        "alice edits in OPS",
        site.send(Auth::Alice, Method::PUT, &issue, Some(edit), Intent::Valid)
            .await,
        403,
    );
    site.expect(
        "alice deletes in OPS",
        site.send(Auth::Alice, Method::DELETE, &issue, None, Intent::Valid)
            .await,
        403,
    );
    site.expect(
        "bob reads in OPS",
        site.send(Auth::Bob, Method::GET, &issue, None, Intent::Valid)
            .await,
        404,
    );
    site.expect(
        "bob reads OPS",
        site.send(Auth::Bob, Method::GET, "/project/OPS", None, Intent::Valid)
            .await,
        404,
    );
    site.expect(
        "bob comments in OPS",
        site.send(
            Auth::Bob,
            Method::POST,
            &format!("{issue}/comment"),
            Some(site.comment_body("hi")),
            Intent::Valid,
        )
        .await,
        404,
    );
}

/// With Cloud's rate limits on, a burst of user searches ends in a 429 carrying Jira's headers,
/// whose body is checked against the document's 429 for that operation.
async fn rate_limits(site: &Site) {
    let config = site
        .http
        .put(format!("{}/_emulator/config", site.handle.base_url()))
        .json(&json!({"rateLimits": true}))
        .send()
        .await
        .unwrap();
    assert!(config.status().is_success(), "cannot switch rate limits on");
    let path = site.path("/user/search?query=alice%40example.com");
    let mut refused = None;
    for _ in 0..1_000 {
        let response = site
            .http
            .get(format!("{}{path}", site.handle.base_url()))
            .basic_auth("admin@example.com", Some("emulator-token"))
            .send()
            .await
            .unwrap();
        if response.status().as_u16() == 429 {
            refused = Some(response);
            break;
        }
        if response.headers().get("x-ratelimit-remaining").is_none() {
            site.fail(format!("GET {path} answered without X-RateLimit-Remaining"));
        }
    }
    let Some(refused) = refused else {
        site.fail(format!("1000 quick GET {path} were never rate limited"));
        return;
    };
    for header in [
        "retry-after",
        "ratelimit-reason",
        "x-ratelimit-limit",
        "x-ratelimit-reset",
    ] {
        if refused.headers().get(header).is_none() {
            site.fail(format!("the 429 of GET {path} has no {header} header"));
        }
    }
    let body: Value = refused.json().await.unwrap_or(Value::Null);
    site.check_response(&Method::GET, &path, 429, &body);
    let config = site
        .http
        .put(format!("{}/_emulator/config", site.handle.base_url()))
        .json(&json!({"rateLimits": false}))
        .send()
        .await
        .unwrap();
    assert!(
        config.status().is_success(),
        "cannot switch rate limits off"
    );
}

fn no_summary_issue(site: &Site) -> Value {
    let mut issue = task(site, "");
    issue["fields"].as_object_mut().unwrap().remove("summary");
    issue
}

/// Operations both flavors serve, as each document names them.
fn expected(api: &str, cloud: bool) -> Vec<(&'static str, String)> {
    let mut operations = vec![
        ("GET", "/myself"),
        ("GET", "/serverInfo"),
        ("GET", "/field"),
        ("GET", "/issuetype"),
        ("GET", "/status"),
        ("GET", "/statuscategory"),
        ("GET", "/priority"),
        ("GET", "/resolution"),
        ("GET", "/issue/{issueIdOrKey}/editmeta"),
        ("GET", "/user/search"),
        ("GET", "/project"),
        ("GET", "/project/{projectIdOrKey}"),
        ("GET", "/issue/createmeta/{projectIdOrKey}/issuetypes"),
        (
            "GET",
            "/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}",
        ),
        ("POST", "/issue"),
        ("POST", "/issue/bulk"),
        ("GET", "/issue/{issueIdOrKey}"),
        ("PUT", "/issue/{issueIdOrKey}"),
        ("DELETE", "/issue/{issueIdOrKey}"),
        ("GET", "/issue/{issueIdOrKey}/transitions"),
        ("POST", "/issue/{issueIdOrKey}/transitions"),
        ("GET", "/issue/{issueIdOrKey}/comment"),
        ("POST", "/issue/{issueIdOrKey}/comment"),
        ("GET", "/issue/{issueIdOrKey}/comment/{id}"),
        ("PUT", "/issue/{issueIdOrKey}/comment/{id}"),
        ("DELETE", "/issue/{issueIdOrKey}/comment/{id}"),
        ("GET", "/issue/{issueIdOrKey}/properties"),
        ("GET", "/issue/{issueIdOrKey}/properties/{propertyKey}"),
        ("PUT", "/issue/{issueIdOrKey}/properties/{propertyKey}"),
        ("DELETE", "/issue/{issueIdOrKey}/properties/{propertyKey}"),
        ("GET", "/search"),
        ("POST", "/search"),
    ];
    if cloud {
        operations.extend([
            ("GET", "/project/search"),
            ("GET", "/priority/search"),
            ("POST", "/issue/bulkfetch"),
            ("GET", "/search/jql"),
            ("POST", "/search/jql"),
        ]);
    }
    operations
        .into_iter()
        .map(|(method, path)| (method, format!("{api}{path}")))
        .collect()
}

async fn conforms(flavor: Flavor) {
    let site = Site::start(flavor).await;
    exercise(&site).await;
    let (prefix, cloud) = match flavor {
        Flavor::Cloud => ("/rest/api/3", true),
        Flavor::Datacenter => ("/api/2", false),
    };
    let expected = expected(prefix, cloud);
    let expected: Vec<(&str, &str)> = expected.iter().map(|(m, p)| (*m, p.as_str())).collect();
    site.finish(&expected);
}

#[tokio::test]
async fn cloud_v3_conforms_to_the_cloud_document() {
    conforms(Flavor::Cloud).await;
}

#[tokio::test]
async fn data_center_v2_conforms_to_the_data_center_document() {
    conforms(Flavor::Datacenter).await;
}
