//! Checks the OpenAPI validator the conformance tests rely on, with bodies known to be good or bad,
//! against Atlassian's real documents.

mod support;

use serde_json::json;
use support::openapi::{self, Flavor, document};

fn cloud_user() -> serde_json::Value {
    json!({
        "self": "http://127.0.0.1/rest/api/3/user?accountId=acc-1",
        "accountId": "acc-1",
        "accountType": "atlassian",
        "emailAddress": "alice@example.com",
        "displayName": "Alice",
        "active": true,
        "timeZone": "UTC",
        "locale": "en_US",
        "avatarUrls": {"48x48": "http://127.0.0.1/a.png"}
    })
}

#[test]
fn finds_operations_by_concrete_path() {
    let cloud = document(Flavor::Cloud);
    assert_eq!(
        cloud
            .operation("GET", "/rest/api/3/issue/SEC-1")
            .unwrap()
            .template,
        "/rest/api/3/issue/{issueIdOrKey}"
    );
    assert_eq!(
        cloud
            .operation("post", "/rest/api/3/issue/bulk")
            .unwrap()
            .template,
        "/rest/api/3/issue/bulk"
    );
    assert_eq!(
        cloud
            .operation("PUT", "/rest/api/3/issue/SEC-1/properties/sync.meta?x=1")
            .unwrap()
            .template,
        "/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}"
    );
    assert!(
        cloud
            .operation("GET", "/rest/api/3/nothing/here")
            .unwrap_err()
            .contains("no path")
    );
    assert!(
        cloud
            .operation("PATCH", "/rest/api/3/myself")
            .unwrap_err()
            .contains("no patch operation")
    );
    let dc = document(Flavor::DataCenter);
    assert_eq!(
        dc.operation("GET", "/rest/api/2/search").unwrap().template,
        "/api/2/search"
    );
    assert_eq!(
        dc.operation("DELETE", "/rest/api/2/issue/10001")
            .unwrap()
            .template,
        "/api/2/issue/{issueIdOrKey}"
    );
}

#[test]
fn accepts_a_good_myself_and_refuses_a_bad_one() {
    let cloud = document(Flavor::Cloud);
    cloud
        .validate_response("GET", "/rest/api/3/myself", 200, &cloud_user())
        .unwrap();
    let mut bad = cloud_user();
    bad["active"] = json!("yes");
    let error = cloud
        .validate_response("GET", "/rest/api/3/myself", 200, &bad)
        .unwrap_err();
    assert!(error.contains("/active"), "{error}");
    let error = cloud
        .validate_response("GET", "/rest/api/3/myself", 418, &cloud_user())
        .unwrap_err();
    assert!(error.contains("status 418 is not documented"), "{error}");
}

#[test]
fn resolves_refs_and_checks_nested_objects() {
    let cloud = document(Flavor::Cloud);
    let good = json!({
        "issues": [{"id": "10001", "key": "SEC-1", "self": "http://127.0.0.1/rest/api/3/issue/10001",
                    "fields": {"summary": "x"}}],
        "nextPageToken": "abc",
        "isLast": false
    });
    cloud
        .validate_response("POST", "/rest/api/3/search/jql", 200, &good)
        .unwrap();
    let bad = json!({"issues": [{"id": 10001}], "isLast": "no"});
    let error = cloud
        .validate_response("POST", "/rest/api/3/search/jql", 200, &bad)
        .unwrap_err();
    assert!(error.contains("/issues/0/id"), "{error}");
    assert!(error.contains("/isLast"), "{error}");
}

#[test]
fn validates_requests_leaving_read_only_properties_optional() {
    let cloud = document(Flavor::Cloud);
    let create = json!({"fields": {"project": {"key": "SEC"}, "summary": "x", "issuetype": {"name": "Task"}}});
    cloud
        .validate_request("POST", "/rest/api/3/issue", &create)
        .unwrap();
    let error = cloud
        .validate_request(
            "POST",
            "/rest/api/3/issue",
            &json!({"fields": "not an object"}),
        )
        .unwrap_err();
    assert!(error.contains("/fields"), "{error}");
    let transition = json!({"transition": {"id": "21"}});
    cloud
        .validate_request("POST", "/rest/api/3/issue/SEC-1/transitions", &transition)
        .unwrap();
    assert!(
        cloud
            .validate_request("GET", "/rest/api/3/myself", &json!({}))
            .unwrap_err()
            .contains("takes no JSON request body")
    );
}

#[test]
fn error_bodies_follow_the_documented_error_collection() {
    let dc = document(Flavor::DataCenter);
    let errors = json!({"errorMessages": ["Issue Does Not Exist"], "errors": {}});
    dc.validate_response("GET", "/rest/api/2/issue/SEC-999", 404, &errors)
        .unwrap_or_else(|e| panic!("{e}"));
    let cloud = document(Flavor::Cloud);
    cloud
        .validate_response("POST", "/rest/api/3/issue", 400, &errors)
        .unwrap_or_else(|e| panic!("{e}"));
    let bad = json!({"errorMessages": "one string", "errors": {}});
    assert!(
        cloud
            .validate_response("POST", "/rest/api/3/issue", 400, &bad)
            .is_err()
    );
}

#[test]
fn nullable_properties_take_null_and_nothing_else_of_the_wrong_type() {
    let cloud = document(Flavor::Cloud);
    let priority = |description: serde_json::Value| {
        json!({"name": "Urgent", "statusColor": "#ff0000", "iconUrl": "/images/icons/priorities/major.png",
               "description": description})
    };
    cloud
        .validate_request("POST", "/rest/api/3/priority", &priority(json!(null)))
        .unwrap();
    cloud
        .validate_request("POST", "/rest/api/3/priority", &priority(json!("text")))
        .unwrap();
    let error = cloud
        .validate_request("POST", "/rest/api/3/priority", &priority(json!(5)))
        .unwrap_err();
    assert!(error.contains("/description"), "{error}");
}

#[test]
fn read_only_properties_stay_required_in_responses() {
    let cloud = document(Flavor::Cloud);
    let path = "/rest/api/3/issue/createmeta/SEC/issuetypes/10001";
    let field = json!({"fieldId": "summary", "key": "summary", "name": "Summary", "operations": ["set"],
                       "required": true, "schema": {"type": "string", "system": "summary"}});
    let page = |field: serde_json::Value| json!({"fields": [field], "maxResults": 50, "startAt": 0, "total": 1});
    cloud
        .validate_response("GET", path, 200, &page(field.clone()))
        .unwrap();
    let mut without_key = field;
    without_key.as_object_mut().unwrap().remove("key");
    let error = cloud
        .validate_response("GET", path, 200, &page(without_key))
        .unwrap_err();
    assert!(error.contains("\"key\" is a required property"), "{error}");
}

#[test]
fn lists_documented_query_parameters() {
    let cloud = document(Flavor::Cloud);
    let parameters = cloud
        .query_parameters("GET", "/rest/api/3/search/jql")
        .unwrap();
    for name in ["jql", "nextPageToken", "maxResults", "fields"] {
        assert!(
            parameters.iter().any(|p| p == name),
            "{name} in {parameters:?}"
        );
    }
    let dc = document(Flavor::DataCenter);
    let parameters = dc
        .query_parameters("GET", "/rest/api/2/user/search")
        .unwrap();
    assert!(parameters.iter().any(|p| p == "username"), "{parameters:?}");
}

#[test]
fn a_missing_folder_is_reported_clearly() {
    let error =
        openapi::OpenApi::load_from(std::path::Path::new("/nonexistent/openapi"), Flavor::Cloud)
            .err()
            .unwrap();
    assert!(
        error.contains("/nonexistent/openapi/jira-cloud-v3.json"),
        "{error}"
    );
    assert!(error.contains("set JIRA_OPENAPI_DIR"), "{error}");
}
