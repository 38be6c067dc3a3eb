//! The emulator over real HTTP: auth, issues, workflow, comments, properties, search, errors, admin API.

use std::net::SocketAddr;

use jira_emulator::{Emulator, EmulatorConfig, EmulatorHandle, Flavor, Seed};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const ADMIN: (&str, &str) = ("admin@example.com", "emulator-token");

async fn start(flavor: Flavor, seed: Seed) -> EmulatorHandle {
    let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
    Emulator::start(
        listen,
        EmulatorConfig {
            flavor,
            seed,
            ..EmulatorConfig::default()
        },
    )
    .await
    .unwrap()
}

struct Jira {
    handle: EmulatorHandle,
    http: Client,
    api: &'static str,
}

impl Jira {
    async fn cloud() -> Self {
        Self::with(Flavor::Cloud, Seed::default(), "/rest/api/3").await
    }

    async fn with(flavor: Flavor, seed: Seed, api: &'static str) -> Self {
        Jira {
            handle: start(flavor, seed).await,
            http: Client::new(),
            api,
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("/_emulator") || path.starts_with("/rest/") {
            format!("{}{path}", self.handle.base_url())
        } else {
            format!("{}{}{path}", self.handle.base_url(), self.api)
        }
    }

    async fn call_as(
        &self,
        user: (&str, &str),
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, self.url(path))
            .basic_auth(user.0, Some(user.1));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call_as(ADMIN, method, path, body).await
    }

    async fn create(&self, fields: Value) -> String {
        let (status, body) = self
            .call(Method::POST, "/issue", Some(json!({ "fields": fields })))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["key"].as_str().unwrap().to_owned()
    }
}

fn adf(text: &str) -> Value {
    json!({"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]})
}

fn task(summary: &str, labels: &[&str]) -> Value {
    json!({"project": {"key": "SEC"}, "issuetype": {"name": "Task"}, "summary": summary, "labels": labels})
}

#[tokio::test]
async fn authentication_takes_api_tokens_and_personal_access_tokens_only() {
    let jira = Jira::cloud().await;
    let anonymous = jira.http.get(jira.url("/myself")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = jira
        .call_as(("admin@example.com", "wrong"), Method::GET, "/myself", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let bearer = jira
        .http
        .get(jira.url("/myself"))
        .bearer_auth("emulator-pat")
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
    let me: Value = bearer.json().await.unwrap();
    assert_eq!(me["emailAddress"], "admin@example.com");
    assert_eq!(me["accountType"], "atlassian");
    let (_, info) = jira.call(Method::GET, "/serverInfo", None).await;
    assert_eq!(info["deploymentType"], "Cloud");
}

#[tokio::test]
async fn data_center_speaks_v2_with_user_names_and_epic_link() {
    let jira = Jira::with(Flavor::Datacenter, Seed::default(), "/rest/api/2").await;
    let (status, body) = jira.call(Method::GET, "/rest/api/3/myself", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = jira
        .call_as(("admin@example.com", "nope"), Method::GET, "/myself", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("not authenticated")
    );
    let (_, me) = jira.call(Method::GET, "/myself", None).await;
    assert_eq!(me["name"], "admin");
    let key = jira
        .create(
            json!({"project": {"key": "SEC"}, "issuetype": {"name": "Task"}, "summary": "DC task",
                       "description": "h2. Steps\n* patch", "customfield_10100": "SEC-1",
                       "assignee": {"name": "alice"}}),
        )
        .await;
    let (_, issue) = jira.call(Method::GET, &format!("/issue/{key}"), None).await;
    assert_eq!(issue["fields"]["customfield_10100"], "SEC-1");
    assert_eq!(issue["fields"]["description"], "h2. Steps\n* patch");
    assert_eq!(issue["fields"]["assignee"]["name"], "alice");
    assert!(issue["fields"].get("parent").is_none());
    let (status, page) = jira
        .call(
            Method::GET,
            "/search?jql=project%20%3D%20SEC&startAt=1&maxResults=1&fields=summary",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["total"], 2);
    assert_eq!(page["startAt"], 1);
    assert_eq!(page["issues"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn created_issue_reads_back_in_adf_on_v3_and_wiki_text_on_v2() {
    let jira = Jira::cloud().await;
    let mut fields = task("Patch CVE-2026-1234", &["compliance", "jas-sync-a"]);
    fields["description"] = adf("Upgrade the base image.");
    fields["parent"] = json!({"key": "SEC-1"});
    fields["assignee"] = json!({"accountId": "5b10ac8d82e05b22cc7d4ef5"});
    fields["priority"] = json!({"name": "High"});
    fields["duedate"] = json!("2026-12-31");
    let key = jira.create(fields).await;
    assert_eq!(key, "SEC-2");
    let (_, v3) = jira.call(Method::GET, &format!("/issue/{key}"), None).await;
    let f = &v3["fields"];
    assert_eq!(f["description"], adf("Upgrade the base image."));
    assert_eq!(f["labels"], json!(["compliance", "jas-sync-a"]));
    assert_eq!(f["status"]["statusCategory"]["key"], "new");
    assert_eq!(f["status"]["statusCategory"]["id"], 2);
    assert_eq!(f["parent"]["key"], "SEC-1");
    assert_eq!(f["assignee"]["emailAddress"], "alice@example.com");
    assert_eq!(f["priority"]["name"], "High");
    assert_eq!(f["duedate"], "2026-12-31");
    assert_eq!(f["resolution"], Value::Null);
    assert_eq!(f["reporter"]["emailAddress"], "admin@example.com");
    let (_, v2) = jira
        .call(
            Method::GET,
            &format!("/rest/api/2/issue/{key}?fields=description,summary"),
            None,
        )
        .await;
    assert_eq!(v2["fields"]["description"], "Upgrade the base image.");
    assert_eq!(v2["fields"].as_object().unwrap().len(), 2);
}

#[tokio::test]
async fn bad_fields_get_jiras_messages() {
    let jira = Jira::cloud().await;
    let long = "x".repeat(255);
    let long_label = "l".repeat(256);
    let cases = [
        (
            task(&long, &[]),
            "summary",
            "Summary must be less than 255 characters.",
        ),
        (
            task("ok", &["has space"]),
            "labels",
            "The label 'has space' contains spaces which is invalid.",
        ),
        (
            task("ok", &[&long_label]),
            "labels",
            "The entered text is too long. It exceeds the allowed limit of 255 characters.",
        ),
        (
            json!({"project": {"key": "NOPE"}, "issuetype": {"name": "Task"}, "summary": "s"}),
            "project",
            "Specify a valid project ID or key",
        ),
        (
            json!({"project": {"key": "SEC"}, "issuetype": {"name": "Sub-task"}, "summary": "s"}),
            "issuetype",
            "The issue type selected is invalid.",
        ),
        (
            json!({"project": {"key": "SEC"}, "issuetype": {"name": "Task"}}),
            "summary",
            "You must specify a summary of the issue.",
        ),
        (
            json!({"project": {"key": "SEC"}, "summary": "s"}),
            "issuetype",
            "Specify an issue type",
        ),
        (
            {
                let mut t = task("s", &[]);
                t["resolution"] = json!({"name": "Done"});
                t
            },
            "resolution",
            "Field 'resolution' cannot be set. It is not on the appropriate screen, or unknown.",
        ),
        (
            {
                let mut t = task("s", &[]);
                t["description"] = json!("plain");
                t
            },
            "description",
            "Operation value must be an Atlassian Document (see the Atlassian Document Format)",
        ),
        (
            {
                let mut t = task("s", &[]);
                t["description"] = adf(&"x".repeat(32_767));
                t
            },
            "description",
            "The entered text is too long. It exceeds the allowed limit of 32,767 characters.",
        ),
    ];
    for (fields, field, message) in cases {
        let (status, body) = jira
            .call(Method::POST, "/issue", Some(json!({ "fields": fields })))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["errors"][field], message, "{body}");
        assert!(body["errorMessages"].is_array());
    }
    let (status, body) = jira.call(Method::GET, "/issue/SEC-999", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["errorMessages"][0],
        "Issue does not exist or you do not have permission to see it."
    );
}

#[tokio::test]
async fn bulk_create_reports_each_failure_by_position_and_caps_at_fifty() {
    let jira = Jira::cloud().await;
    let updates = json!({"issueUpdates": [
        {"fields": task("one", &["a"])},
        {"fields": task("two", &["bad label"])},
        {"fields": task("three", &[])},
    ]});
    let (status, body) = jira.call(Method::POST, "/issue/bulk", Some(updates)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let keys: Vec<&str> = body["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["SEC-2", "SEC-3"]);
    assert_eq!(body["errors"][0]["failedElementNumber"], 1);
    assert_eq!(body["errors"][0]["status"], 400);
    assert!(body["errors"][0]["elementErrors"]["errors"]["labels"].is_string());
    let too_many: Vec<Value> = (0..51)
        .map(|i| json!({"fields": task(&format!("t{i}"), &[])}))
        .collect();
    let (status, body) = jira
        .call(
            Method::POST,
            "/issue/bulk",
            Some(json!({"issueUpdates": too_many})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = jira
        .call(
            Method::POST,
            "/issue/bulk",
            Some(json!({"issueUpdates": [{"fields": task("x", &["a b"])}]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["issues"], json!([]));
}

#[tokio::test]
async fn edits_apply_field_sets_and_label_operations_and_write_the_changelog() {
    let jira = Jira::cloud().await;
    let key = jira.create(task("before", &["keep", "drop"])).await;
    let edit = json!({"fields": {"summary": "after"}, "update": {"labels": [{"add": "new"}, {"remove": "drop"}]}});
    let (status, body) = jira
        .call(Method::PUT, &format!("/issue/{key}"), Some(edit))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, issue) = jira
        .call(Method::GET, &format!("/issue/{key}?expand=changelog"), None)
        .await;
    assert_eq!(issue["fields"]["summary"], "after");
    assert_eq!(issue["fields"]["labels"], json!(["keep", "new"]));
    let items = &issue["changelog"]["histories"][0]["items"];
    let fields: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["summary", "labels"]);
    let (status, body) = jira
        .call(
            Method::PUT,
            &format!("/issue/{key}"),
            Some(json!({"fields": {"status": {"name": "Done"}}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"]["status"],
        "Field 'status' cannot be set. It is not on the appropriate screen, or unknown."
    );
}

#[tokio::test]
async fn transitions_follow_the_workflow_and_set_and_clear_the_resolution() {
    let jira = Jira::cloud().await;
    let key = jira.create(task("walk the workflow", &[])).await;
    let (_, list) = jira
        .call(
            Method::GET,
            &format!("/issue/{key}/transitions?expand=transitions.fields"),
            None,
        )
        .await;
    let names: Vec<&str> = list["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Start Progress", "Done"]);
    assert!(list["transitions"][1]["fields"]["resolution"].is_object());
    let take = |id: &str| json!({"transition": {"id": id}});
    let (status, _) = jira
        .call(
            Method::POST,
            &format!("/issue/{key}/transitions"),
            Some(take("11")),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = jira
        .call(
            Method::POST,
            &format!("/issue/{key}/transitions"),
            Some(take("11")),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errorMessages"][0],
        "Transition id '11' is not valid for this issue."
    );
    let done = json!({"transition": {"id": "21"}, "fields": {"resolution": {"name": "Won't Do"}},
                      "update": {"comment": [{"add": {"body": adf("Closing.")}}]}});
    let (status, body) = jira
        .call(
            Method::POST,
            &format!("/issue/{key}/transitions"),
            Some(done),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, issue) = jira.call(Method::GET, &format!("/issue/{key}"), None).await;
    assert_eq!(issue["fields"]["status"]["statusCategory"]["key"], "done");
    assert_eq!(issue["fields"]["resolution"]["name"], "Won't Do");
    assert!(issue["fields"]["resolutiondate"].is_string());
    assert_eq!(issue["fields"]["comment"]["total"], 1);
    let (status, _) = jira
        .call(
            Method::POST,
            &format!("/issue/{key}/transitions"),
            Some(take("31")),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, issue) = jira.call(Method::GET, &format!("/issue/{key}"), None).await;
    assert_eq!(issue["fields"]["status"]["name"], "To Do");
    assert_eq!(issue["fields"]["resolution"], Value::Null);
    assert_eq!(issue["fields"]["resolutiondate"], Value::Null);
    let (status, _) = jira
        .call(
            Method::POST,
            &format!("/issue/{key}/transitions"),
            Some(take("21")),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, issue) = jira
        .call(
            Method::GET,
            &format!("/issue/{key}?fields=resolution"),
            None,
        )
        .await;
    assert_eq!(
        issue["fields"]["resolution"]["name"], "Done",
        "the Done screen defaults the resolution"
    );
}

#[tokio::test]
async fn comments_are_added_listed_edited_and_deleted() {
    let jira = Jira::cloud().await;
    let key = jira.create(task("discuss", &[])).await;
    let (status, comment) = jira
        .call(
            Method::POST,
            &format!("/issue/{key}/comment"),
            Some(json!({"body": adf("First")})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{comment}");
    let id = comment["id"].as_str().unwrap().to_owned();
    assert_eq!(comment["author"]["emailAddress"], "admin@example.com");
    let (status, body) = jira
        .call(
            Method::POST,
            &format!("/issue/{key}/comment"),
            Some(json!({"body": adf("")})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"]["comment"], "Comment body can not be empty!");
    let (status, body) = jira
        .call(
            Method::POST,
            &format!("/rest/api/2/issue/{key}/comment"),
            Some(json!({"body": "x".repeat(32_768)})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["errors"]["comment"],
        "The entered text is too long. It exceeds the allowed limit of 32,767 characters."
    );
    let (status, _) = jira
        .call(
            Method::PUT,
            &format!("/issue/{key}/comment/{id}"),
            Some(json!({"body": adf("Edited")})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = jira
        .call(
            Method::GET,
            &format!("/rest/api/2/issue/{key}/comment"),
            None,
        )
        .await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["comments"][0]["body"], "Edited");
    let (status, _) = jira
        .call(Method::DELETE, &format!("/issue/{key}/comment/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = jira
        .call(Method::GET, &format!("/issue/{key}/comment/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn entity_properties_are_set_at_create_and_through_their_endpoints() {
    let jira = Jira::cloud().await;
    let body = json!({"fields": task("with metadata", &[]), "properties": [{"key": "jas.sync", "value": {"tasks": ["a"]}}]});
    let (_, created) = jira.call(Method::POST, "/issue", Some(body)).await;
    let key = created["key"].as_str().unwrap();
    let (_, value) = jira
        .call(
            Method::GET,
            &format!("/issue/{key}/properties/jas.sync"),
            None,
        )
        .await;
    assert_eq!(value, json!({"key": "jas.sync", "value": {"tasks": ["a"]}}));
    let (status, _) = jira
        .call(
            Method::PUT,
            &format!("/issue/{key}/properties/other"),
            Some(json!(42)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = jira
        .call(
            Method::PUT,
            &format!("/issue/{key}/properties/other"),
            Some(json!(43)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = jira
        .call(
            Method::PUT,
            &format!("/issue/{key}/properties/other"),
            Some(json!("x".repeat(32_767))),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        body["errorMessages"][0],
        "The property value cannot be longer than 32768 bytes."
    );
    let (_, keys) = jira
        .call(Method::GET, &format!("/issue/{key}/properties"), None)
        .await;
    let names: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["key"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["jas.sync", "other"]);
    let (status, _) = jira
        .call(
            Method::DELETE,
            &format!("/issue/{key}/properties/other"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = jira
        .call(Method::GET, &format!("/issue/{key}/properties/other"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["errorMessages"][0],
        "The property with key 'other' does not exist."
    );
    let (_, issue) = jira
        .call(
            Method::GET,
            &format!("/issue/{key}?fields=summary&properties=jas.sync"),
            None,
        )
        .await;
    assert_eq!(issue["properties"]["jas.sync"]["tasks"][0], "a");
}

#[tokio::test]
async fn enhanced_search_pages_with_tokens_and_selects_fields() {
    let jira = Jira::cloud().await;
    for i in 0..5 {
        jira.create(task(&format!("paged {i}"), &["paged"])).await;
    }
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut request =
            json!({"jql": "labels = paged", "maxResults": 2, "fields": ["summary", "status"]});
        if let Some(t) = &token {
            request["nextPageToken"] = json!(t);
        }
        let (status, page) = jira.call(Method::POST, "/search/jql", Some(request)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for issue in page["issues"].as_array().unwrap() {
            assert!(issue["fields"]["status"].is_object());
            assert!(issue["fields"].get("labels").is_none());
            keys.push(issue["key"].as_str().unwrap().to_owned());
        }
        match page.get("nextPageToken").and_then(Value::as_str) {
            Some(t) => {
                assert_eq!(page["isLast"], false);
                token = Some(t.to_owned());
            }
            None => {
                assert_eq!(page["isLast"], true);
                break;
            }
        }
    }
    keys.sort();
    assert_eq!(keys, ["SEC-2", "SEC-3", "SEC-4", "SEC-5", "SEC-6"]);
    let (_, ids_only) = jira
        .call(Method::GET, "/search/jql?jql=labels%20%3D%20paged", None)
        .await;
    assert_eq!(ids_only["issues"][0]["fields"], json!({}));
    let (status, body) = jira.call(Method::GET, "/search/jql?jql=", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errorMessages"][0]
            .as_str()
            .unwrap()
            .starts_with("Unbounded JQL queries are not allowed here.")
    );
    for path in [
        "/rest/api/3/search?jql=project%3DSEC",
        "/rest/api/2/search?jql=project%3DSEC",
    ] {
        let (status, body) = jira.call(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::GONE);
        assert!(
            body["errorMessages"][0]
                .as_str()
                .unwrap()
                .starts_with("The requested API has been removed.")
        );
    }
}

#[tokio::test]
async fn users_are_found_by_email_and_issues_fetched_in_bulk() {
    let jira = Jira::cloud().await;
    let (_, users) = jira
        .call(Method::GET, "/user/search?query=alice%40example.com", None)
        .await;
    assert_eq!(users.as_array().unwrap().len(), 1);
    assert_eq!(users[0]["accountId"], "5b10ac8d82e05b22cc7d4ef5");
    let key = jira.create(task("fetch me", &[])).await;
    let (_, fetched) = jira
        .call(
            Method::POST,
            "/issue/bulkfetch",
            Some(json!({"issueIdsOrKeys": [key, "SEC-1", "SEC-404"], "fields": ["summary"]})),
        )
        .await;
    let keys: Vec<&str> = fetched["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["SEC-2", "SEC-1"]);
    let many: Vec<String> = (0..101).map(|i| format!("SEC-{i}")).collect();
    let (status, _) = jira
        .call(
            Method::POST,
            "/issue/bulkfetch",
            Some(json!({"issueIdsOrKeys": many})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn project_permissions_hide_or_refuse_as_jira_does() {
    let mut seed = Seed::default();
    seed.projects[1].permissions.browse =
        Some(vec!["admin@example.com".into(), "alice@example.com".into()]);
    seed.projects[1].permissions.create = Some(vec!["admin@example.com".into()]);
    seed.projects[1].permissions.delete = Some(vec!["admin@example.com".into()]);
    seed.users[1].api_token = Some("alice-token".into());
    seed.users[2].api_token = Some("bob-token".into());
    let jira = Jira::with(Flavor::Cloud, seed, "/rest/api/3").await;
    let ops =
        json!({"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "ops work"});
    let key = jira.create(ops.clone()).await;
    let bob = ("bob@example.com", "bob-token");
    let alice = ("alice@example.com", "alice-token");
    let (status, _) = jira
        .call_as(bob, Method::GET, &format!("/issue/{key}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = jira.call_as(bob, Method::GET, "/project/OPS", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["errorMessages"][0],
        "No project could be found with key 'OPS'."
    );
    let (status, _) = jira
        .call_as(alice, Method::GET, &format!("/issue/{key}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = jira
        .call_as(alice, Method::POST, "/issue", Some(json!({"fields": ops})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = jira
        .call_as(alice, Method::DELETE, &format!("/issue/{key}"), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, refused) = jira
        .call_as(
            bob,
            Method::GET,
            "/search/jql?jql=project%20in%20(SEC%2C%20OPS)",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused["errorMessages"][0],
        "The value 'OPS' does not exist for the field 'project'."
    );
    let (_, found) = jira
        .call_as(
            alice,
            Method::GET,
            "/search/jql?jql=project%20%3D%20OPS&fields=key",
            None,
        )
        .await;
    assert_eq!(found["issues"][0]["key"], key.as_str());
    let (_, hidden) = jira
        .call_as(
            bob,
            Method::GET,
            "/search/jql?jql=summary%20~%20ops&fields=key",
            None,
        )
        .await;
    assert_eq!(
        hidden["issues"],
        json!([]),
        "search leaves out what bob may not browse"
    );
}

#[tokio::test]
async fn deleting_an_issue_with_subtasks_needs_delete_subtasks() {
    let mut seed = Seed::default();
    seed.issue_types.push(jira_emulator::SeedIssueType {
        id: "10005".into(),
        name: "Subtask".into(),
        hierarchy_level: -1,
    });
    seed.projects[0].issue_types.push("Subtask".into());
    let jira = Jira::with(Flavor::Cloud, seed, "/rest/api/3").await;
    let parent = jira.create(task("parent", &[])).await;
    let child = jira
        .create(json!({"project": {"key": "SEC"}, "issuetype": {"name": "Subtask"}, "summary": "child", "parent": {"key": parent}}))
        .await;
    let (status, _) = jira
        .call(Method::DELETE, &format!("/issue/{parent}"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = jira
        .call(
            Method::DELETE,
            &format!("/issue/{parent}?deleteSubtasks=true"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = jira
        .call(Method::GET, &format!("/issue/{child}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn injected_faults_fail_requests_or_lose_committed_responses() {
    let jira = Jira::cloud().await;
    let rule = json!({"method": "GET", "path": "/rest/api/3/myself", "count": 1, "action": "error", "status": 503, "retryAfterSecs": 2});
    let (status, _) = jira
        .call(Method::POST, "/_emulator/faults", Some(rule))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let failed = jira
        .http
        .get(jira.url("/myself"))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(failed.headers()["retry-after"], "2");
    let (status, _) = jira.call(Method::GET, "/myself", None).await;
    assert_eq!(status, StatusCode::OK, "the fault applies once");

    let drop = json!({"method": "POST", "path": "/rest/api/3/issue", "action": "dropResponse"});
    jira.call(Method::POST, "/_emulator/faults", Some(drop))
        .await;
    let lost = jira
        .http
        .post(jira.url("/issue"))
        .basic_auth(ADMIN.0, Some(ADMIN.1))
        .json(&json!({"fields": task("lost response", &["lost"])}))
        .send()
        .await;
    assert!(lost.is_err(), "the connection closes without an answer");
    let (_, found) = jira
        .call(
            Method::GET,
            "/search/jql?jql=labels%20%3D%20lost&fields=summary",
            None,
        )
        .await;
    assert_eq!(
        found["issues"][0]["fields"]["summary"], "lost response",
        "the create was committed"
    );
}

/// A 429 fault names the `RateLimit-Reason` it is told (or none) with the rate limiter's headers; a
/// `forMs` rule fails every match until it ends; a `slow` rule delays its matches.
#[tokio::test]
async fn injected_429s_name_their_reason_outages_last_and_slow_rules_delay() {
    let jira = Jira::cloud().await;
    let get = |path: &'static str| {
        jira.http
            .get(jira.url(path))
            .basic_auth(ADMIN.0, Some(ADMIN.1))
            .send()
    };
    for (reason, expected) in [
        (
            json!("jira-quota-global-based"),
            Some("jira-quota-global-based"),
        ),
        (
            json!("jira-quota-tenant-based"),
            Some("jira-quota-tenant-based"),
        ),
        (
            json!("jira-per-issue-on-write"),
            Some("jira-per-issue-on-write"),
        ),
        (json!(null), Some("jira-burst-based")),
        (json!("none"), None),
    ] {
        let rule = json!({"path": "/rest/api/3/myself", "action": "error", "status": 429, "rateLimitReason": reason});
        let (status, _) = jira
            .call(Method::POST, "/_emulator/faults", Some(rule))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let refused = get("/myself").await.unwrap();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        let headers = refused.headers();
        assert_eq!(
            headers["retry-after"], "1",
            "Jira always says when to retry"
        );
        assert_eq!(
            headers.get("ratelimit-reason").map(|v| v.to_str().unwrap()),
            expected
        );
        assert_eq!(headers["x-ratelimit-remaining"], "0");
        assert_eq!(headers["x-ratelimit-nearlimit"], "true");
        assert!(headers.contains_key("x-ratelimit-reset"));
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["errorMessages"][0], "Rate limit exceeded.");
    }
    let (status, body) = jira
        .call(
            Method::POST,
            "/_emulator/faults",
            Some(json!({"path": "/rest/api/3/myself", "action": "error", "status": 429, "rateLimitReason": "jira-cost-based"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let outage = json!({"path": "/rest/*", "forMs": 600, "action": "error", "status": 503});
    jira.call(Method::POST, "/_emulator/faults", Some(outage))
        .await;
    for path in ["/myself", "/serverInfo", "/myself"] {
        assert_eq!(
            get(path).await.unwrap().status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(get("/myself").await.unwrap().status(), StatusCode::OK);
    let (_, listed) = jira.call(Method::GET, "/_emulator/faults", None).await;
    assert_eq!(listed["faults"], json!([]), "an ended outage is not listed");

    let slow = json!({"method": "GET", "path": "/rest/api/3/*", "count": 1, "action": "slow", "latencyMs": 300});
    jira.call(Method::POST, "/_emulator/faults", Some(slow))
        .await;
    let started = std::time::Instant::now();
    assert_eq!(get("/myself").await.unwrap().status(), StatusCode::OK);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
}

#[tokio::test]
async fn search_lag_hides_changes_until_it_passes() {
    let jira = Jira::cloud().await;
    jira.call(
        Method::PATCH,
        "/_emulator/config",
        Some(json!({"searchLagMs": 300})),
    )
    .await;
    jira.create(task("lagging", &["lag"])).await;
    let search = "/search/jql?jql=labels%20%3D%20lag";
    let (_, now) = jira.call(Method::GET, search, None).await;
    assert_eq!(now["issues"], json!([]));
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let (_, later) = jira.call(Method::GET, search, None).await;
    assert_eq!(later["issues"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_request_log_records_bodies_and_reset_restores_the_seed() {
    let jira = Jira::cloud().await;
    jira.create(task("logged", &["log"])).await;
    let (_, log) = jira.call(Method::GET, "/_emulator/requests", None).await;
    let create = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"] == "POST")
        .unwrap();
    assert_eq!(create["path"], "/rest/api/3/issue");
    assert_eq!(create["status"], 201);
    assert_eq!(create["body"]["fields"]["summary"], "logged");
    let (_, counters) = jira.call(Method::GET, "/_emulator/counters", None).await;
    assert_eq!(counters["counters"]["POST /rest/api/3/issue"], 1);
    let (status, _) = jira.call(Method::POST, "/_emulator/reset", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = jira.call(Method::GET, "/issue/SEC-2", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let seed = "users: [{email: carol@example.com, displayName: Carol, apiToken: t}]\nprojects: [{key: ABC, name: Alpha, issueTypes: [Task]}]\nissues: []\n";
    let response = jira
        .http
        .post(jira.url("/_emulator/seed"))
        .body(seed)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, project) = jira
        .call_as(
            ("carol@example.com", "t"),
            Method::GET,
            "/project/ABC",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{project}");
    assert_eq!(project["lead"]["emailAddress"], "carol@example.com");
}
