//! The reckoning of an operator suite: are the tickets in Jira exactly one per task, each in its
//! task's state and recorded on it; and the producers that keep changing tasks meanwhile.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use jira_active_sync::api::ComplianceTask;
use jira_active_sync::jira::{Issue, StatusCategory};
use jira_active_sync::planner::TicketIdentity;
use kube::api::ListParams;

use super::site::Site;

/// The key and status category a task's `status.jira` records.
type Recorded = (Option<String>, Option<String>);

/// How Jira and the tasks compare with what is expected.
#[derive(Debug, Default)]
pub struct Reckoning {
    /// Issues made in the project during the test.
    pub tickets: usize,
    /// Issues beyond one per task (retired duplicates included: they exist in Jira).
    pub duplicates: usize,
    /// Tasks without a ticket.
    pub missing: Vec<String>,
    /// Tasks whose ticket or recorded status is wrong.
    pub wrong: Vec<String>,
}

impl Reckoning {
    /// Exactly one ticket per task, each in the right state and recorded on its task.
    pub fn exact(&self) -> bool {
        self.duplicates == 0 && self.missing.is_empty() && self.wrong.is_empty()
    }
}

/// The counts, as the figures line of a suite prints them.
impl std::fmt::Display for Reckoning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "tickets={} duplicates={} missing={} wrong={}",
            self.tickets,
            self.duplicates,
            self.missing.len(),
            self.wrong.len()
        )
    }
}

impl Site {
    /// Flips a twentieth of the tasks (at least one), as producers do meanwhile: open ones
    /// complete, completed ones re-open; `expected` follows. Gives how many flipped.
    pub async fn flip_some(
        &self,
        names: &[String],
        expected: &mut BTreeMap<String, bool>,
        rng: &mut impl rand::Rng,
    ) -> usize {
        use rand::seq::IndexedRandom;
        let changed: Vec<String> = names
            .choose_multiple(rng, (names.len() / 20).max(1))
            .cloned()
            .collect();
        for name in &changed {
            let completed = !expected[name];
            self.set_state(name, if completed { "Completed" } else { "Open" })
                .await;
            expected.insert(name.clone(), completed);
        }
        changed.len()
    }

    /// Waits until [`reckon`](Self::reckon) is exact, a patience that grows with the task count;
    /// else panics with the reckoning, the sync's status, `context` and the operator's log path.
    pub async fn until_exact(&self, expected: &BTreeMap<String, bool>, context: &str, log: &Path) {
        let tasks = u64::try_from(expected.len()).unwrap_or(0);
        let patience = Duration::from_secs(120 + tasks / 4);
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let reckoning = self.reckon(expected).await;
            if reckoning.exact() {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                let requests = self.dump_requests().await;
                panic!(
                    "no convergence within {patience:?}: {} tickets, {} duplicates, {} missing, {} wrong (first: {:?}); sync status: {:?}; {context}; see {} and Jira's request log {}",
                    reckoning.tickets,
                    reckoning.duplicates,
                    reckoning.missing.len(),
                    reckoning.wrong.len(),
                    reckoning.wrong.first(),
                    self.sync_status("s").await,
                    log.display(),
                    requests.display()
                );
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Compares Jira and the tasks with `expected` (task -> completed?): one ticket per open task,
    /// none or one done ticket per completed task, each recorded on its task.
    pub async fn reckon(&self, expected: &BTreeMap<String, bool>) -> Reckoning {
        let tickets = self.all_tickets().await;
        let recorded = self.recorded_statuses().await;
        let mut reckoning = Reckoning {
            tickets: tickets.len() - self.baseline,
            ..Reckoning::default()
        };
        let mut by_label: BTreeMap<String, Vec<&Issue>> = BTreeMap::new();
        for ticket in &tickets {
            for label in &ticket.labels {
                by_label.entry(label.clone()).or_default().push(ticket);
            }
        }
        let singles: usize = expected
            .keys()
            .filter(|task| by_label.contains_key(&TicketIdentity::Task((*task).clone()).label()))
            .count();
        reckoning.duplicates = reckoning.tickets.saturating_sub(singles);
        for (task, completed) in expected {
            let label = TicketIdentity::Task(task.clone()).label();
            let found = by_label.get(&label).map(Vec::as_slice).unwrap_or_default();
            reckoning.judge(task, *completed, found, recorded.get(task));
        }
        reckoning
    }

    /// Task name -> what its `status.jira` records, if anything.
    async fn recorded_statuses(&self) -> BTreeMap<String, Option<Recorded>> {
        let tasks = self
            .ns
            .api::<ComplianceTask>()
            .list(&ListParams::default())
            .await
            .expect("tasks");
        tasks
            .items
            .into_iter()
            .map(|t| {
                let name = t.metadata.name.clone().unwrap_or_default();
                let jira = t
                    .status
                    .and_then(|s| s.jira)
                    .map(|j| (j.key, j.status_category));
                (name, jira)
            })
            .collect()
    }
}

impl Reckoning {
    /// Counts `task` (`completed` or not) missing or wrong, given the tickets carrying its label
    /// and what its status records.
    fn judge(
        &mut self,
        task: &str,
        completed: bool,
        found: &[&Issue],
        recorded: Option<&Option<Recorded>>,
    ) {
        match found {
            // A task completed before it ever had a ticket needs none.
            [] if completed => {
                if let Some(Some((Some(key), _))) = recorded {
                    self.wrong
                        .push(format!("{task}: status records {key}, which Jira lacks"));
                }
            }
            [] => self.missing.push(task.to_owned()),
            [ticket] => {
                let done = ticket.status.category == StatusCategory::Done;
                let want = if completed { "done" } else { "not done" };
                if done != completed {
                    self.wrong
                        .push(format!("{task}: ticket {} is not {want}", ticket.key));
                }
                let expected_category = ticket.status.category.key().to_owned();
                match recorded {
                    Some(Some((Some(key), category)))
                        if key == &ticket.key
                            && category.as_deref() == Some(expected_category.as_str()) => {}
                    other => self.wrong.push(format!(
                        "{task}: status records {other:?}, Jira has {} ({expected_category})",
                        ticket.key
                    )),
                }
            }
            many => self.wrong.push(format!(
                "{task}: {} tickets carry its label: {:?}",
                many.len(),
                many.iter().map(|t| &t.key).collect::<Vec<_>>()
            )),
        }
    }
}
