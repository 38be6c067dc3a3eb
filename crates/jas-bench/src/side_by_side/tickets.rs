//! The tickets a tool made, read back from the emulator after a phase, and what they show:
//! duplicates (tickets for one finding beyond the first), tickets closed, the last creation.

use std::collections::{HashMap, HashSet};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::jira::{ADMIN, Emulator};

/// One ticket as Jira shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    pub key: String,
    /// Both tools write one summary per finding: `policy (rule) on Deployment ns/name` (Jira
    /// Active Sync) and `ns/deployment/name: Policy Violation: policy` (policy-reporter).
    pub summary: String,
    /// Its status is in the category `done`.
    pub done: bool,
    pub created: jiff::Timestamp,
}

/// Tickets made for a finding that already had one: per summary, every ticket beyond the first.
pub fn duplicates(tickets: &[Ticket]) -> usize {
    let mut per_finding: HashMap<&str, usize> = HashMap::new();
    for ticket in tickets {
        *per_finding.entry(ticket.summary.as_str()).or_default() += 1;
    }
    per_finding.values().map(|n| n - 1).sum()
}

/// Tickets whose status is in the category `done`.
pub fn closed(tickets: &[Ticket]) -> usize {
    tickets.iter().filter(|t| t.done).count()
}

/// When the last ticket was created.
pub fn last_created(tickets: &[Ticket]) -> Option<jiff::Timestamp> {
    tickets.iter().map(|t| t.created).max()
}

fn ticket(issue: &Value) -> anyhow::Result<Ticket> {
    let fields = &issue["fields"];
    let created = fields["created"]
        .as_str()
        .context("an issue without `created`")?;
    Ok(Ticket {
        key: issue["key"].as_str().unwrap_or_default().to_owned(),
        summary: fields["summary"].as_str().unwrap_or_default().to_owned(),
        done: fields["status"]["statusCategory"]["key"] == "done",
        created: jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", created)
            .and_then(|t| t.to_timestamp())
            .with_context(|| format!("the created time {created}"))?,
    })
}

/// Every ticket of project SEC but those named in `seeded` (the emulator's seed holds one), read
/// as the admin through `/search/jql`, page by page.
pub async fn list(emulator: &Emulator, seeded: &HashSet<String>) -> anyhow::Result<Vec<Ticket>> {
    let http = reqwest::Client::new();
    let mut tickets = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let body = json!({"jql": "project = SEC ORDER BY key ASC", "maxResults": 100,
                          "fields": ["summary", "status", "created"], "nextPageToken": token});
        let response = http
            .post(format!("{}/rest/api/3/search/jql", emulator.base_url))
            .basic_auth(ADMIN.0, Some(ADMIN.1))
            .json(&body)
            .send()
            .await
            .context("searching the tickets of SEC")?;
        if !response.status().is_success() {
            bail!("searching the tickets of SEC: {}", response.status());
        }
        let page: Value = response.json().await.context("a search page")?;
        for issue in page["issues"].as_array().into_iter().flatten() {
            let ticket = ticket(issue)?;
            if !seeded.contains(&ticket.key) {
                tickets.push(ticket);
            }
        }
        token = page["nextPageToken"].as_str().map(str::to_owned);
        if token.is_none() || page["isLast"] == true {
            return Ok(tickets);
        }
    }
}

/// What the emulator's request log says of a phase's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLog {
    /// Calls answered with 429.
    pub rate_limited: u64,
    /// When the last call at or after the log's `from` time arrived.
    pub last_call: Option<jiff::Timestamp>,
}

impl CallLog {
    /// Reads logged requests (`status`, `time`) for 429 answers and the last call from `from` on.
    fn of(requests: &[Value], from: jiff::Timestamp) -> CallLog {
        CallLog {
            rate_limited: requests.iter().filter(|r| r["status"] == 429).count() as u64,
            last_call: requests
                .iter()
                .filter_map(|r| r["time"].as_str()?.parse::<jiff::Timestamp>().ok())
                .filter(|t| *t >= from)
                .max(),
        }
    }
}

/// The requests logged from request number `since` on (the log numbers every request it counts,
/// from 0), with the last call at or after `from`.
pub async fn call_log(
    emulator: &Emulator,
    since: u64,
    from: jiff::Timestamp,
) -> anyhow::Result<CallLog> {
    let log: Value = reqwest::get(format!(
        "{}/_emulator/requests?since={since}",
        emulator.base_url
    ))
    .await
    .context("reading the emulator's request log")?
    .json()
    .await
    .context("the emulator's request log")?;
    let requests = log["requests"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    Ok(CallLog::of(requests, from))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(summary: &str, done: bool, second: i64) -> Ticket {
        Ticket {
            key: format!("SEC-{second}"),
            summary: summary.to_owned(),
            done,
            created: jiff::Timestamp::from_second(second).expect("a time"),
        }
    }

    #[test]
    fn duplicates_are_tickets_beyond_the_first_per_finding() {
        let tickets = [
            at("a", false, 1),
            at("b", false, 2),
            at("a", false, 3),
            at("a", true, 4),
            at("c", false, 5),
            at("b", false, 6),
        ];
        assert_eq!(duplicates(&tickets), 3);
        assert_eq!(duplicates(&tickets[..2]), 0);
        assert_eq!(duplicates(&[]), 0);
    }

    #[test]
    fn closed_and_last_created() {
        let tickets = [at("a", true, 9), at("b", false, 4), at("c", true, 7)];
        assert_eq!(closed(&tickets), 2);
        assert_eq!(last_created(&tickets), jiff::Timestamp::from_second(9).ok());
        assert_eq!(last_created(&[]), None);
    }

    #[test]
    fn the_call_log_counts_429_and_finds_the_last_call_from_a_time() {
        let requests = [
            json!({"status": 201, "time": "2026-12-03T12:00:01Z"}),
            json!({"status": 429, "time": "2026-12-03T12:00:03Z"}),
            json!({"status": 200, "time": "2026-12-03T12:00:02.5Z"}),
        ];
        let from: jiff::Timestamp = "2026-12-03T12:00:02Z".parse().expect("a time");
        let log = CallLog::of(&requests, from);
        assert_eq!(log.rate_limited, 1);
        assert_eq!(log.last_call, "2026-12-03T12:00:03Z".parse().ok());
        let later: jiff::Timestamp = "2026-12-03T12:00:04Z".parse().expect("a time");
        assert_eq!(CallLog::of(&requests, later).last_call, None);
    }

    #[test]
    fn reads_a_ticket_as_the_emulator_renders_it() {
        let issue = json!({"key": "SEC-3", "fields": {"summary": "s", "created": "2026-12-03T12:00:01.250+0000",
                           "status": {"name": "Done", "statusCategory": {"key": "done"}}}});
        let ticket = ticket(&issue).expect("a ticket");
        assert!(ticket.done);
        assert_eq!(ticket.created.to_string(), "2026-12-03T12:00:01.25Z");
    }
}
