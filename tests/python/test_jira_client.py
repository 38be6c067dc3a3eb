"""The jira-emulator driven by a third-party Jira client: the `jira` package from PyPI.

Run through scripts/test-python, which starts the emulator and sets JIRA_EMULATOR_URL.
"""

import json
import os
import urllib.request

import pytest
from jira import JIRA
from jira.exceptions import JIRAError

BASE_URL = os.environ.get("JIRA_EMULATOR_URL")
pytestmark = pytest.mark.skipif(BASE_URL is None, reason="JIRA_EMULATOR_URL is not set (use scripts/test-python)")


def admin(path, method="GET", body=None):
    """Calls the emulator's admin API."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{BASE_URL}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        text = response.read()
        return json.loads(text) if text else None


@pytest.fixture()
def jira():
    admin("/_emulator/reset", method="POST")
    client = JIRA(server=BASE_URL, basic_auth=("admin@example.com", "emulator-token"))
    yield client
    client.close()


def test_create_search_transition_comment_delete(jira):
    assert jira.server_info()["deploymentType"] == "Cloud"

    issue = jira.create_issue(fields={
        "project": {"key": "SEC"},
        "issuetype": {"name": "Task"},
        "summary": "Rotate the payments-api credentials",
        "description": "Rotate them.\n*Then* restart the pods.",
        "labels": ["compliance", "jas-python"],
    })
    assert issue.key == "SEC-2"
    assert issue.fields.summary == "Rotate the payments-api credentials"
    assert issue.fields.status.name == "To Do"
    assert issue.fields.status.statusCategory.key == "new"
    assert issue.fields.description == "Rotate them.\n*Then* restart the pods."

    found = jira.search_issues('project = SEC AND labels = "jas-python" ORDER BY key ASC', maxResults=10)
    assert [i.key for i in found] == ["SEC-2"]

    names = {t["name"]: t["id"] for t in jira.transitions(issue)}
    assert set(names) == {"Start Progress", "Done"}
    jira.transition_issue(issue, names["Start Progress"])
    jira.transition_issue(issue, "Done")
    done = jira.issue(issue.key)
    assert done.fields.status.statusCategory.key == "done"
    assert done.fields.resolution.name == "Done"

    comment = jira.add_comment(issue, "Rotated by the operator.")
    assert comment.body == "Rotated by the operator."
    assert [c.body for c in jira.comments(issue)] == ["Rotated by the operator."]

    in_done = jira.search_issues("statusCategory = Done AND project = SEC", maxResults=10)
    assert [i.key for i in in_done] == ["SEC-2"]

    issue.delete()
    with pytest.raises(JIRAError) as missing:
        jira.issue("SEC-2")
    assert missing.value.status_code == 404

    log = admin("/_emulator/requests")["requests"]
    create = next(r for r in log if r["method"] == "POST" and r["path"] == "/rest/api/2/issue")
    assert create["body"]["fields"]["labels"] == ["compliance", "jas-python"]


def test_bad_input_surfaces_jiras_error_messages(jira):
    with pytest.raises(JIRAError) as refused:
        jira.create_issue(fields={
            "project": {"key": "SEC"},
            "issuetype": {"name": "Task"},
            "summary": "labels with spaces",
            "labels": ["not valid"],
        })
    assert refused.value.status_code == 400
    assert "The label 'not valid' contains spaces which is invalid." in refused.value.text

    with pytest.raises(JIRAError) as bad_jql:
        jira.search_issues("project = SEC AND colour = red")
    assert bad_jql.value.status_code == 400
