//! Counts the Jira API calls that an initial sync of N tasks makes through the client, in Individual
//! mode (one ticket per task) and Batch mode (one ticket per assignee group), against the emulator,
//! and prints them per endpoint (read from the emulator's request counters). The calls follow the
//! controller's first pass: connection check, the sync's tickets by label with their entity property,
//! assignee look-ups, bulk creates, and reading the created tickets back for their status.
//!
//! `cargo run --example jira_initial_sync_calls`

use std::collections::BTreeMap;
use std::time::Instant;

use jira_active_sync::jira::{
    ClientConfig, Credentials, Description, Flavor, JiraClient, NewIssue, RateLimit, TaskSection,
    jql,
};
use jira_emulator::{Emulator, EmulatorConfig, Flavor as EmulatorFlavor, Seed};
use serde_json::{Value, json};

const ASSIGNEES: [&str; 3] = ["alice@example.com", "bob@example.com", "admin@example.com"];

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("flavor      mode        tasks groups  calls  per endpoint");
    for flavor in [Flavor::Cloud, Flavor::DataCenter] {
        for tasks in [1usize, 10, 50, 120, 500] {
            for groups in [None, Some(3usize.min(tasks))] {
                let counts = initial_sync(flavor, tasks, groups).await?;
                let total: u64 = counts.values().sum();
                let mode = if groups.is_some() {
                    "Batch"
                } else {
                    "Individual"
                };
                let detail: Vec<String> = counts.iter().map(|(k, v)| format!("{v}x {k}")).collect();
                println!(
                    "{:<11} {mode:<11} {tasks:>5} {:>6} {total:>6}  {}",
                    format!("{flavor:?}"),
                    groups.map_or("-".to_owned(), |g| g.to_string()),
                    detail.join(", ")
                );
            }
        }
    }
    throughput().await
}

fn section(i: usize) -> TaskSection {
    TaskSection {
        title: format!("Task {i}"),
        check: "vulnerability-management".into(),
        severity: Some("High".into()),
        due_date: None,
        namespace: "payments".into(),
        name: format!("task-{i}"),
        state: "Open".into(),
        instructions: "Do the thing.".into(),
        how_to_fix: "Fix the thing.".into(),
    }
}

fn ticket(
    summary: String,
    label: String,
    sections: Vec<TaskSection>,
    assignee: Option<String>,
) -> NewIssue {
    NewIssue {
        project: "SEC".into(),
        issue_type: "Task".into(),
        summary,
        description: Description {
            intro: String::new(),
            tasks: sections,
        },
        labels: vec!["jas-sync-vuln".into(), label.clone()],
        priority: Some("High".into()),
        due_date: None,
        assignee,
        epic: Some("SEC-1".into()),
        properties: vec![("activesync.dev.sync".into(), json!({"identity": label}))],
    }
}

/// What the operator does on first contact with a sync of `tasks` tasks: check the connection,
/// resolve the project and epic, look for tickets it made before, resolve assignees, create tickets.
async fn initial_sync(
    flavor: Flavor,
    tasks: usize,
    groups: Option<usize>,
) -> Result<BTreeMap<String, u64>, Box<dyn std::error::Error>> {
    let (emulator, client) = start(flavor).await?;
    client.myself().await?;
    client.server_info().await?;
    let existing = client
        .search_with_properties(
            &format!("labels = {} ORDER BY key ASC", jql::quote("jas-sync-vuln")),
            &["activesync.dev.sync"],
        )
        .await?;
    assert!(existing.is_empty());
    let mut accounts = Vec::new();
    for email in ASSIGNEES {
        accounts.push(client.user_by_email(email).await?.map(|u| u.account_id));
    }
    let tickets: Vec<NewIssue> = match groups {
        None => (0..tasks)
            .map(|i| {
                let assignee = accounts[i % ASSIGNEES.len()].clone();
                ticket(
                    format!("Task {i}"),
                    format!("jas-task-{i}"),
                    vec![section(i)],
                    assignee,
                )
            })
            .collect(),
        Some(groups) => (0..groups)
            .map(|g| {
                let sections = (0..tasks)
                    .filter(|i| i % groups == g)
                    .map(section)
                    .collect();
                let assignee = accounts[g % ASSIGNEES.len()].clone();
                ticket(
                    format!("Group {g}"),
                    format!("jas-group-{g}"),
                    sections,
                    assignee,
                )
            })
            .collect(),
    };
    let mut created = Vec::new();
    for result in client.bulk_create(&tickets).await {
        created.push(result?.key);
    }
    client.bulk_fetch(&created).await?;
    let counters: Value = reqwest::get(format!("{}/_emulator/counters", emulator.base_url()))
        .await?
        .json()
        .await?;
    let counts = serde_json::from_value(counters["counters"].clone())?;
    emulator.shutdown().await;
    Ok(counts)
}

async fn start(
    flavor: Flavor,
) -> Result<(jira_emulator::EmulatorHandle, JiraClient), Box<dyn std::error::Error>> {
    let emulator = Emulator::start(
        "127.0.0.1:0".parse()?,
        EmulatorConfig {
            flavor: match flavor {
                Flavor::Cloud => EmulatorFlavor::Cloud,
                Flavor::DataCenter => EmulatorFlavor::Datacenter,
            },
            seed: Seed::default(),
            rate_limits: false,
            ..EmulatorConfig::default()
        },
    )
    .await?;
    let credentials = match flavor {
        Flavor::Cloud => Credentials::Basic {
            email: "admin@example.com".into(),
            api_token: "emulator-token".into(),
        },
        Flavor::DataCenter => Credentials::Bearer {
            token: "emulator-pat".into(),
        },
    };
    let mut config = ClientConfig::new(emulator.base_url(), flavor, credentials);
    config.rate_limit = RateLimit {
        requests_per_second: 100_000,
        burst: 100_000,
    };
    let client = JiraClient::new(config)?;
    Ok((emulator, client))
}

/// Requests per second through the client (token bucket, JSON decoding) against the emulator.
async fn throughput() -> Result<(), Box<dyn std::error::Error>> {
    let (emulator, client) = start(Flavor::Cloud).await?;
    let rounds = 2_000;
    let started = Instant::now();
    for _ in 0..rounds {
        client.get_issue("SEC-1").await?;
    }
    let sequential = rounds as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let calls = (0..rounds).map(|_| {
        let client = client.clone();
        async move { client.get_issue("SEC-1").await }
    });
    for result in futures::future::join_all(calls).await {
        result?;
    }
    let concurrent = rounds as f64 / started.elapsed().as_secs_f64();
    println!(
        "\nget_issue through the client: {sequential:.0} req/s sequential, {concurrent:.0} req/s with {rounds} concurrent"
    );
    emulator.shutdown().await;
    Ok(())
}
