//! The sync end to end: the operator binary (scoped to the test's namespace) against a real
//! kube-apiserver + etcd and the Jira emulator over real HTTP, both as processes (`tests/support`).

mod support;

use std::ops::Deref;

use futures::StreamExt;
use std::time::Duration;

use jira_active_sync::api::{ComplianceTask, JiraActiveSync, condition_status};
use jira_active_sync::jira::{Flavor, IssueUpdate, JiraClient, StatusCategory, TransitionTarget};
use jira_active_sync::planner::PROPERTY_KEY;
use kube::ResourceExt;
use kube::api::DeleteParams;
use serde_json::{Value, json};
use support::Mode;
use support::emulator::{EMAIL, SEED_TOKEN};
use support::operator::Operator;
use support::site::CONNECTION;
use support::{Site, eventually};

/// How long anything may take to converge on a slow CI machine.
const PATIENCE: Duration = Duration::from_secs(60);

/// A site with the operator running on it.
struct Env {
    site: Site,
    client: JiraClient,
    operator: Option<Operator>,
}

impl Deref for Env {
    type Target = Site;

    fn deref(&self) -> &Site {
        &self.site
    }
}

impl Env {
    async fn new(test: &str) -> Env {
        Env::of(Flavor::Cloud, test).await
    }

    /// A site whose emulator speaks `flavor`, with the operator running.
    async fn of(flavor: Flavor, test: &str) -> Env {
        let site = Site::of(flavor, test, json!({})).await;
        let client = site.jira.client(&site.token);
        let mut env = Env {
            site,
            client,
            operator: None,
        };
        env.start_operator().await;
        env
    }

    async fn start_operator(&mut self) {
        let options = self.site.operator_options("5s");
        self.operator = Some(Operator::start(Mode::Process, &options, self.site.log_path()).await);
    }

    /// Kills the operator as a crash would: no graceful shutdown.
    async fn kill_operator(&mut self) {
        if let Some(operator) = self.operator.take() {
            operator.kill().await;
        }
    }

    async fn get_task(&self, name: &str) -> ComplianceTask {
        self.ns
            .api::<ComplianceTask>()
            .get(name)
            .await
            .expect("task")
    }

    async fn get_sync(&self, name: &str) -> Option<JiraActiveSync> {
        self.ns
            .api::<JiraActiveSync>()
            .get_opt(name)
            .await
            .expect("get sync")
    }

    async fn task_status(&self, name: &str) -> (Option<String>, Option<String>) {
        let jira = self.get_task(name).await.status.and_then(|s| s.jira);
        (
            jira.as_ref().and_then(|j| j.key.clone()),
            jira.and_then(|j| j.status_category),
        )
    }

    async fn jira_transition(&self, key: &str, category: StatusCategory) {
        self.client
            .transition(key, &TransitionTarget::Category(category), None, None)
            .await
            .expect("transition in Jira");
    }

    async fn comments(&self, key: &str) -> String {
        let request =
            reqwest::Client::new().get(format!("{}/rest/api/2/issue/{key}/comment", self.jira.url));
        let request = match self.jira.flavor() {
            Flavor::Cloud => request.basic_auth(EMAIL, Some(&self.token)),
            Flavor::DataCenter => request.bearer_auth(&self.token),
        };
        request
            .send()
            .await
            .expect("comments")
            .text()
            .await
            .expect("body")
    }
}

fn individual(check: &str) -> Value {
    json!({"connectionRef": {"name": CONNECTION}, "scope": {"checks": [check]},
           "jira": {"project": "SEC", "labels": ["compliance"]}, "mode": "Individual"})
}

fn batch(extra: Value) -> Value {
    let mut spec = json!({"connectionRef": {"name": CONNECTION},
                          "jira": {"project": "OPS"}, "mode": "Batch"});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    spec
}

#[tokio::test]
async fn individual_ticket_closes_when_its_task_completes_and_reopens_with_it() {
    let env = Env::new("individual").await;
    env.task("cve-1", "vuln", Some("alice@example.com")).await;
    env.task("cve-2", "vuln", None).await;
    env.sync("vuln", individual("vuln")).await;
    let tickets = eventually("two tickets", PATIENCE, || async {
        let t = env.tickets("vuln").await;
        (t.len() == 2).then_some(t)
    })
    .await;
    let cve1 = tickets
        .iter()
        .find(|t| t.labels.contains(&"jas-task.cve-1".to_owned()))
        .expect("cve-1 ticket");
    assert_eq!(cve1.summary, "Fix cve-1");
    assert!(cve1.description_text.contains("Instructions for cve-1"));
    assert!(cve1.labels.contains(&"compliance".to_owned()));
    assert!(cve1.assignee.is_some(), "alice is a Jira user");
    let key = cve1.key.clone();
    let (recorded, _) = eventually("the task status names the ticket", PATIENCE, || async {
        let s = env.task_status("cve-1").await;
        s.0.is_some().then_some(s)
    })
    .await;
    assert_eq!(recorded.as_deref(), Some(key.as_str()));

    env.set_state("cve-1", "Completed").await;
    eventually("the ticket is done", PATIENCE, || async {
        (env.client.get_issue(&key).await.ok()?.status.category == StatusCategory::Done)
            .then_some(())
    })
    .await;
    eventually("the task shows done", PATIENCE, || async {
        (env.task_status("cve-1").await.1.as_deref() == Some("done")).then_some(())
    })
    .await;
    assert!(
        env.comments(&key)
            .await
            .contains("every task of this ticket is completed")
    );

    env.set_state("cve-1", "Open").await;
    eventually("the ticket re-opens", PATIENCE, || async {
        (env.client.get_issue(&key).await.ok()?.status.category == StatusCategory::New)
            .then_some(())
    })
    .await;
    assert_eq!(env.tickets("vuln").await.len(), 2, "no ticket was added");
    let sync = env.get_sync("vuln").await.expect("sync");
    let status = sync.status.expect("status");
    assert_eq!(condition_status(&status.conditions, "Ready"), Some("True"));
    assert_eq!((status.tasks_in_scope, status.tickets), (2, 2));
}

#[tokio::test]
async fn batch_tickets_follow_their_tasks_and_close_when_all_complete() {
    let env = Env::new("batch").await;
    for (name, who) in [
        ("a1", "alice"),
        ("a2", "alice"),
        ("a3", "alice"),
        ("b1", "bob"),
        ("b2", "bob"),
    ] {
        env.task(name, "access", Some(&format!("{who}@example.com")))
            .await;
    }
    env.sync("dash", batch(json!({}))).await;
    // The first pass may run before the operator's watch has every task: a task that arrives later
    // joins its group's ticket, which then says so.
    let bob_label = "jas-group.bob@example.com".to_owned();
    let (tickets, bob) = eventually(
        "two batch tickets, bob's with both tasks",
        PATIENCE,
        || async {
            let t = env.tickets("dash").await;
            let bob = t.iter().find(|t| t.labels.contains(&bob_label))?.clone();
            (t.len() == 2 && bob.summary == "Compliance tasks: bob@example.com (2 open of 2)")
                .then_some((t, bob))
        },
    )
    .await;
    assert_eq!(tickets.len(), 2, "no third ticket");
    assert!(
        bob.description_text.contains("Instructions for b1")
            && bob.description_text.contains("Instructions for b2")
    );
    let key = bob.key.clone();
    env.set_state("b1", "Completed").await;
    eventually("the description shows b1 completed", PATIENCE, || async {
        let issue = env.client.get_issue(&key).await.ok()?;
        (issue.summary == "Compliance tasks: bob@example.com (1 open of 2)").then_some(())
    })
    .await;
    assert_eq!(
        env.client
            .get_issue(&key)
            .await
            .expect("issue")
            .status
            .category,
        StatusCategory::New
    );
    env.set_state("b2", "Completed").await;
    eventually("bob's ticket closes", PATIENCE, || async {
        (env.client.get_issue(&key).await.ok()?.status.category == StatusCategory::Done)
            .then_some(())
    })
    .await;
    assert!(env.comments(&key).await.contains("b1") && env.comments(&key).await.contains("b2"));
}

#[tokio::test]
async fn done_in_jira_follows_jira_completion() {
    let env = Env::new("jira-completion").await;
    for (i, mode) in ["Reflect", "CompleteTasks", "Reopen"].iter().enumerate() {
        env.task(&format!("t{i}"), &format!("check{i}"), None).await;
        let mut spec = individual(&format!("check{i}"));
        spec["jiraCompletion"] = json!(mode);
        // Jira's changes arrive by polling here (no webhook): the shortest interval keeps the
        // wait well inside the test's patience.
        spec["pollInterval"] = json!("10s");
        env.sync(&format!("s{i}"), spec).await;
    }
    let mut keys = Vec::new();
    for i in 0..3 {
        let key = eventually("a ticket per sync", PATIENCE, || async {
            env.task_status(&format!("t{i}")).await.0
        })
        .await;
        env.jira_transition(&key, StatusCategory::Done).await;
        keys.push(key);
    }
    eventually("Reflect shows done on the open task", PATIENCE, || async {
        let (_, category) = env.task_status("t0").await;
        let task = env.get_task("t0").await;
        (category.as_deref() == Some("done")
            && task.spec.state == jira_active_sync::api::TaskState::Open)
            .then_some(())
    })
    .await;
    eventually("CompleteTasks completes the task", PATIENCE, || async {
        (env.get_task("t1").await.spec.state == jira_active_sync::api::TaskState::Completed)
            .then_some(())
    })
    .await;
    eventually(
        "Reopen re-opens the ticket with a comment",
        PATIENCE,
        || async {
            (env.client.get_issue(&keys[2]).await.ok()?.status.category == StatusCategory::New)
                .then_some(())
        },
    )
    .await;
    assert!(
        env.comments(&keys[2])
            .await
            .contains("jiraCompletion: Reopen")
    );
}

#[tokio::test]
async fn webhook_brings_jira_status_to_the_task() {
    let env = Env::new("webhook").await;
    env.task("t", "check", None).await;
    let mut spec = individual("check");
    spec["pollInterval"] = json!("1h");
    env.sync("s", spec).await;
    let key = eventually("a ticket", PATIENCE, || async {
        env.task_status("t").await.0
    })
    .await;
    env.jira_transition(&key, StatusCategory::Indeterminate)
        .await;
    let body = json!({"webhookEvent": "jira:issue_updated",
                      "issue": {"key": key, "fields": {"labels": [format!("jas.{}.s", env.ns.name)]}}})
    .to_string();
    let operator = env.operator.as_ref().expect("the operator runs");
    let url = format!("http://{}/webhooks/jira", operator.listen);
    let http = reqwest::Client::new();
    let forged = http
        .post(&url)
        .header("Content-Type", "application/json")
        .header("X-Hub-Signature", "sha256=00")
        .body(body.clone())
        .send()
        .await
        .expect("delivery");
    assert_eq!(forged.status(), reqwest::StatusCode::UNAUTHORIZED);
    let signature = {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(format!("{SEED_TOKEN}-hook").as_bytes())
            .expect("key");
        mac.update(body.as_bytes());
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    let accepted = eventually(
        "the webhook secret is loaded and the delivery taken",
        PATIENCE,
        || async {
            let response = http
                .post(&url)
                .header("Content-Type", "application/json")
                .header("X-Hub-Signature", &signature)
                .body(body.clone())
                .send()
                .await
                .ok()?;
            (response.status() == reqwest::StatusCode::OK).then_some(response.text().await.ok()?)
        },
    )
    .await;
    assert!(accepted.contains("1 sync(s) woken"), "{accepted}");
    eventually(
        "the task shows In Progress within the poll interval of 1h",
        PATIENCE,
        || async {
            (env.task_status("t").await.1.as_deref() == Some("indeterminate")).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn deletion_policies_retain_delete_and_close() {
    let env = Env::new("deletion").await;
    for (i, policy) in ["Retain", "Delete", "Close"].iter().enumerate() {
        env.task(&format!("t{i}"), &format!("check{i}"), None).await;
        let mut spec = individual(&format!("check{i}"));
        spec["deletionPolicy"] = json!(policy);
        env.sync(&format!("s{i}"), spec).await;
    }
    let mut keys = Vec::new();
    for i in 0..3 {
        keys.push(
            eventually("a ticket per sync", PATIENCE, || async {
                env.task_status(&format!("t{i}")).await.0
            })
            .await,
        );
    }
    let syncs = env.ns.api::<JiraActiveSync>();
    for i in 0..3 {
        let name = format!("s{i}");
        eventually("the finalizer is on", PATIENCE, || async {
            let s = env.get_sync(&name).await?;
            s.finalizers()
                .iter()
                .any(|f| f == "activesync.dev/cleanup")
                .then_some(())
        })
        .await;
        syncs
            .delete(&name, &DeleteParams::default())
            .await
            .expect("delete");
        eventually("the sync is gone", PATIENCE, || async {
            env.get_sync(&name).await.is_none().then_some(())
        })
        .await;
        eventually("the task status is cleared", PATIENCE, || async {
            env.task_status(&format!("t{i}"))
                .await
                .0
                .is_none()
                .then_some(())
        })
        .await;
    }
    let retained = env.client.get_issue(&keys[0]).await.expect("retained");
    assert_eq!(retained.status.category, StatusCategory::New);
    assert!(env.client.get_issue(&keys[1]).await.is_err(), "deleted");
    let closed = env.client.get_issue(&keys[2]).await.expect("closed");
    assert_eq!(closed.status.category, StatusCategory::Done);
    assert!(
        env.comments(&keys[2])
            .await
            .contains("deletionPolicy: Close")
    );
}

#[tokio::test]
async fn deletion_waits_while_jira_is_down() {
    let env = Env::new("deletion-outage").await;
    env.task("t", "check", None).await;
    let mut spec = individual("check");
    spec["deletionPolicy"] = json!("Delete");
    env.sync("s", spec).await;
    let key = eventually("a ticket", PATIENCE, || async {
        env.task_status("t").await.0
    })
    .await;
    env.jira.fault(json!({"path": "/rest/*", "count": 100000, "action": "error", "status": 503, "message": "maintenance"})).await;
    env.ns
        .api::<JiraActiveSync>()
        .delete("s", &DeleteParams::default())
        .await
        .expect("delete");
    let message = eventually("a condition says why the sync stays", PATIENCE, || async {
        let sync = env.get_sync("s").await?;
        let status = sync.status?;
        let ready = status.conditions.iter().find(|c| c.type_ == "Ready")?;
        (ready.status == "False" && ready.message.contains("deletion waits for Jira"))
            .then(|| ready.message.clone())
    })
    .await;
    assert!(
        message.contains("503") || message.contains("transient"),
        "{message}"
    );
    assert!(
        env.get_sync("s").await.is_some(),
        "the finalizer holds the sync"
    );
    env.jira.clear_faults().await;
    eventually("the sync goes once Jira is back", PATIENCE, || async {
        env.get_sync("s").await.is_none().then_some(())
    })
    .await;
    assert!(
        env.client.get_issue(&key).await.is_err(),
        "the ticket was deleted"
    );
}

#[tokio::test]
async fn a_restart_mid_sync_makes_no_duplicates() {
    let mut env = Env::new("restart").await;
    for i in 0..60 {
        env.task(&format!("t{i:02}"), "check", None).await;
    }
    env.sync("s", individual("check")).await;
    eventually("the sync has begun", PATIENCE, || async {
        (!env.tickets("s").await.is_empty()).then_some(())
    })
    .await;
    env.kill_operator().await;
    env.start_operator().await;
    let tickets = eventually("60 tickets", PATIENCE, || async {
        let t = env.tickets("s").await;
        (t.len() >= 60).then_some(t)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let tickets_after = env.tickets("s").await;
    assert_eq!(
        tickets_after.len(),
        60,
        "no duplicates after settling (saw {})",
        tickets.len()
    );
    let mut identities: Vec<String> = tickets_after
        .iter()
        .flat_map(|t| {
            t.labels
                .iter()
                .filter(|l| l.starts_with("jas-task."))
                .cloned()
        })
        .collect();
    identities.sort();
    identities.dedup();
    assert_eq!(identities.len(), 60);
}

#[tokio::test]
async fn two_syncs_naming_one_check_conflict_and_the_older_wins() {
    let env = Env::new("conflict").await;
    env.task("t", "check", None).await;
    env.sync("older", individual("check")).await;
    eventually("the older sync has the ticket", PATIENCE, || async {
        env.task_status("t").await.0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    env.sync("newer", individual("check")).await;
    let message = eventually("the newer sync reports Conflict", PATIENCE, || async {
        let status = env.get_sync("newer").await?.status?;
        let c = status.conditions.iter().find(|c| c.type_ == "Conflict")?;
        (c.status == "True").then(|| c.message.clone())
    })
    .await;
    assert!(message.contains("older"), "{message}");
    assert!(env.tickets("newer").await.is_empty());
    assert_eq!(env.tickets("older").await.len(), 1);
}

#[tokio::test]
async fn a_project_outside_allowed_projects_writes_nothing() {
    let env = Env::new("not-allowed").await;
    env.task("t", "check", None).await;
    let mut spec = individual("check");
    spec["jira"]["project"] = json!("HR");
    env.sync("s", spec).await;
    let reason = eventually("Ready=False with a reason", PATIENCE, || async {
        let status = env.get_sync("s").await?.status?;
        let c = status.conditions.iter().find(|c| c.type_ == "Ready")?;
        (c.status == "False").then(|| c.reason.clone())
    })
    .await;
    assert_eq!(reason, "ProjectNotAllowed");
    assert!(env.tickets("s").await.is_empty());
}

/// The harness's operator in the test process (for suites that need no real crash) syncs as the
/// binary does.
#[tokio::test]
async fn an_operator_in_the_test_process_makes_and_records_the_ticket() {
    let site = Site::new("in-process", SEED_TOKEN, json!({})).await;
    site.task("t", "inproc", None).await;
    site.individual_sync("s", "inproc").await;
    let mut operator = Operator::start(
        Mode::InProcess,
        &site.operator_options("5s"),
        site.log_path(),
    )
    .await;
    let keys = eventually("the task records its ticket", PATIENCE, || async {
        let keys = site.recorded_keys().await;
        (!keys.is_empty()).then_some(keys)
    })
    .await;
    let tickets: Vec<String> = site.tickets("s").await.into_iter().map(|t| t.key).collect();
    assert_eq!(tickets, [keys["t"].clone()]);
    assert!(operator.running());
    assert!(operator.get("/metrics").await.is_some());
    operator.kill().await;
}

#[tokio::test]
async fn people_keep_what_they_do_in_jira_on_cloud() {
    people_keep_what_they_do_in_jira(Flavor::Cloud).await;
}

#[tokio::test]
async fn people_keep_what_they_do_in_jira_on_data_center() {
    people_keep_what_they_do_in_jira(Flavor::DataCenter).await;
}

/// A person takes the ticket of a task with no assignee, and re-opens it after the operator closed
/// it: the ticket stays open and assigned through later passes, with one "Closed:" comment, and
/// the task shows its status; once the task re-opens and completes, the operator closes it again.
async fn people_keep_what_they_do_in_jira(flavor: Flavor) {
    let env = Env::of(flavor, &format!("people-{flavor:?}").to_lowercase()).await;
    env.task("cve-1", "vuln", None).await;
    // The person's re-open reaches the task by a poll: no webhook is registered here.
    let mut spec = individual("vuln");
    spec["pollInterval"] = json!("10s");
    env.sync("vuln", spec).await;
    let key = eventually("the task records its ticket", PATIENCE, || async {
        env.task_status("cve-1").await.0
    })
    .await;
    let me = env.client.myself().await.expect("the person's account");
    let take = IssueUpdate {
        assignee: Some(Some(me.account_id.clone())),
        ..IssueUpdate::default()
    };
    env.client.edit_issue(&key, &take).await.expect("taken");
    env.set_state("cve-1", "Completed").await;
    ticket_reaches(&env, &key, StatusCategory::Done).await;
    env.jira_transition(&key, StatusCategory::New).await;
    eventually("the task shows the re-opened ticket", PATIENCE, || async {
        (env.task_status("cve-1").await.1.as_deref() == Some("new")).then_some(())
    })
    .await;
    // A poll brought the person's change in, asking Jira only for the tickets updated lately.
    let searches = env.jira.logged().await.into_iter().filter_map(|r| {
        let body = r
            .body
            .as_ref()
            .and_then(|b| b["jql"].as_str().map(str::to_owned));
        body.or(r.query).filter(|jql| jql.contains("jas"))
    });
    let incremental: Vec<String> = searches.filter(|jql| jql.contains("updated")).collect();
    assert!(!incremental.is_empty(), "no poll searched by `updated`");
    // Another pass over the ticket: the title changes, and the summary follows it.
    let title = json!({"title": "Patch cve-1 again"});
    env.patch_spec::<ComplianceTask>("cve-1", title).await;
    let issue = eventually("the summary follows the title", PATIENCE, || async {
        let issue = env.client.get_issue(&key).await.ok()?;
        (issue.summary == "Patch cve-1 again").then_some(issue)
    })
    .await;
    assert_eq!(
        issue.status.category,
        StatusCategory::New,
        "not closed again"
    );
    assert_eq!(issue.assignee.as_ref(), Some(&me.account_id), "still taken");
    assert_eq!(env.comments(&key).await.matches("Closed:").count(), 1);
    env.set_state("cve-1", "Open").await;
    eventually(
        "the ticket records the task open again",
        PATIENCE,
        || async {
            let property = env.client.get_property(&key, PROPERTY_KEY).await.ok()??;
            (property["tasks"]["cve-1"] == "Open").then_some(())
        },
    )
    .await;
    env.set_state("cve-1", "Completed").await;
    ticket_reaches(&env, &key, StatusCategory::Done).await;
    eventually("a second Closed: comment", PATIENCE, || async {
        (env.comments(&key).await.matches("Closed:").count() == 2).then_some(())
    })
    .await;
}

async fn ticket_reaches(env: &Env, key: &str, category: StatusCategory) {
    eventually(&format!("{key} reaches {category:?}"), PATIENCE, || async {
        (env.client.get_issue(key).await.ok()?.status.category == category).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_two_thousand_task_batch_group_fits_jiras_limits_on_cloud() {
    a_two_thousand_task_batch_group_fits_jiras_limits(Flavor::Cloud).await;
}

#[tokio::test]
async fn a_two_thousand_task_batch_group_fits_jiras_limits_on_data_center() {
    a_two_thousand_task_batch_group_fits_jiras_limits(Flavor::DataCenter).await;
}

/// 2,000 tasks of one assignee, with names long enough that listing them all would take over
/// 80 KB: one ticket, whose property stays within Jira's 32 KB (the emulator refuses more), which
/// follows completions and closes with a comment within 32,767 characters once all complete.
async fn a_two_thousand_task_batch_group_fits_jiras_limits(flavor: Flavor) {
    const TASKS: usize = 2_000;
    let env = Env::of(flavor, &format!("big-batch-{flavor:?}").to_lowercase()).await;
    let names: Vec<String> = (0..TASKS)
        .map(|i| format!("finding-of-a-rather-verbose-scanner-{i:04}"))
        .collect();
    for_each_task(&names, |name| {
        env.task(name, "scan", Some("alice@example.com"))
    })
    .await;
    env.sync("big", batch(json!({"scope": {"checks": ["scan"]}})))
        .await;
    let ticket = eventually("one ticket for the group", PATIENCE * 3, || async {
        let tickets = env.tickets("big").await;
        (tickets.len() == 1).then(|| tickets[0].clone())
    })
    .await;
    let key = ticket.key;
    let property = env.client.get_property(&key, PROPERTY_KEY).await;
    let property = property.expect("property read").expect("property set");
    assert!(
        property.to_string().len() <= 32 * 1024,
        "within Jira's limit"
    );
    assert_eq!(property["unlisted"]["completed"], 0);
    let done = &names[..TASKS / 2];
    for_each_task(done, |name| env.set_state(name, "Completed")).await;
    let summary = format!(
        "Compliance tasks: alice@example.com ({} open of {TASKS})",
        TASKS / 2
    );
    eventually(
        "the summary counts the completed half",
        PATIENCE * 3,
        || async { (env.client.get_issue(&key).await.ok()?.summary == summary).then_some(()) },
    )
    .await;
    for_each_task(&names[TASKS / 2..], |name| env.set_state(name, "Completed")).await;
    ticket_reaches(&env, &key, StatusCategory::Done).await;
    let comments = env.comments(&key).await;
    assert!(comments.contains("Closed: every task") && comments.contains(" more."));
    assert_eq!(env.tickets("big").await.len(), 1, "no second ticket");
}

/// Runs `act` on every name, 16 at a time.
async fn for_each_task<'a, F, Fut>(names: &'a [String], act: F)
where
    F: Fn(&'a str) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    futures::stream::iter(names)
        .map(|name| act(name))
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
}

/// Both syncs poll once an hour, so only the wake a scope change gives the other sync brings a
/// moved task to its new ticket within the test's patience.
#[tokio::test]
async fn tasks_moved_by_another_syncs_scope_change_reach_their_new_ticket_at_once() {
    let env = Env::new("scope-wake").await;
    env.task("t1", "access", None).await;
    let mut all = individual("vuln");
    all["scope"] = json!({});
    all["pollInterval"] = json!("1h");
    env.sync("all", all).await;
    let mut vuln = individual("vuln");
    vuln["pollInterval"] = json!("1h");
    env.sync("vuln", vuln).await;
    let first = recorded_by(&env, "t1", "all").await;
    // vuln takes the check: the all-tasks sync, not changed itself, releases its ticket.
    let widen = json!({"scope": {"checks": ["vuln", "access"]}});
    env.patch_spec::<JiraActiveSync>("vuln", widen).await;
    let second = recorded_by(&env, "t1", "vuln").await;
    assert_ne!(first, second);
    eventually("the old ticket is released", PATIENCE, || async {
        let labels = env.client.get_issue(&first).await.ok()?.labels;
        (!labels.iter().any(|l| l.starts_with("jas."))).then_some(())
    })
    .await;
    // vuln gives the check back: the all-tasks sync, not changed itself, makes a new ticket.
    let narrow = json!({"scope": {"checks": ["vuln"]}});
    env.patch_spec::<JiraActiveSync>("vuln", narrow).await;
    let third = recorded_by(&env, "t1", "all").await;
    assert!(third != first && third != second);
}

/// Waits for the task's status to name `sync` and a ticket; gives the ticket's key.
async fn recorded_by(env: &Env, task: &str, sync: &str) -> String {
    eventually(&format!("{task} recorded by {sync}"), PATIENCE, || async {
        let jira = env.get_task(task).await.status?.jira?;
        (jira.sync == sync).then_some(jira.key).flatten()
    })
    .await
}

/// On Data Center, whose search cannot return entity properties, polls and full searches read the
/// property only of tickets Jira updated since they were read: with nothing changed, none at all.
#[tokio::test]
async fn a_quiet_poll_on_data_center_reads_no_ticket_property() {
    let env = Env::of(Flavor::DataCenter, "dc-poll").await;
    let names: Vec<String> = (0..20).map(|i| format!("p{i:02}")).collect();
    for_each_task(&names, |name| env.task(name, "poll", None)).await;
    let mut spec = individual("poll");
    spec["pollInterval"] = json!("10s");
    env.sync("poll", spec).await;
    eventually("every task has its ticket", PATIENCE, || async {
        (env.recorded_keys().await.len() == names.len()).then_some(())
    })
    .await;
    // From the first poll for updated tickets on, nothing changes.
    let since = next_search(&env, 0, true).await;
    next_search(&env, since, true).await;
    // A spec change makes the next reading a full label search.
    let poll = json!({"pollInterval": "11s"});
    env.patch_spec::<JiraActiveSync>("poll", poll).await;
    let last = next_search(&env, since, false).await;
    let requests = env.jira.requests(since).await;
    let property_reads: Vec<&Value> = requests
        .iter()
        .filter(|r| r["seq"].as_u64() <= Some(last))
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.contains("/properties/"))
        })
        .collect();
    assert!(property_reads.is_empty(), "{property_reads:#?}");
}

/// Waits for the operator's next label search after request `since`: a poll for updated tickets
/// (`updated >=`) or a full one; gives its sequence number in the emulator's request log.
async fn next_search(env: &Env, since: u64, updated: bool) -> u64 {
    let what = if updated {
        "a poll for updated tickets"
    } else {
        "a full label search"
    };
    eventually(what, PATIENCE, || async {
        let requests = env.jira.requests(since + 1).await;
        requests.iter().find_map(|r| {
            let jql = r["body"]["jql"].as_str()?;
            (jql.starts_with("labels in (") && jql.contains("updated >=") == updated)
                .then(|| r["seq"].as_u64())
                .flatten()
        })
    })
    .await
}
