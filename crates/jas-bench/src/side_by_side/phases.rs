//! One tool through both phases, each against the same reports: 1,000 failing results written
//! while it runs; then the tool restarted and 10% of the results flipped to `pass`.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::bail;

use super::reports::{self, Phase};
use super::results::{Flip, Initial, ToolRun};
use super::tickets;
use super::tool::{Running, Stage, Tool};
use crate::report::{Calls, load_average};

/// How long neither a Jira call nor a reconcile may happen for a phase to count as settled.
const QUIET: Duration = Duration::from_secs(10);
/// The longest a phase may take.
const PATIENCE: Duration = Duration::from_secs(900);

/// Waits until the tool has been quiet for [`QUIET`], after at least one Jira write since
/// `before` if `need_write`.
async fn settle(
    stage: &Stage<'_>,
    running: &Running,
    before: &BTreeMap<String, u64>,
    need_write: bool,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut last = (stage.emulator.counters().await?, running.activity().await?);
    let mut since = started;
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = (stage.emulator.counters().await?, running.activity().await?);
        let wrote = Calls::between(before, &now.0, 1, Duration::ZERO).writes > 0;
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= QUIET && (wrote || !need_write) {
            return Ok(());
        }
        if started.elapsed() > PATIENCE {
            bail!("the tool did not settle within {PATIENCE:?}");
        }
    }
}

/// The number the emulator's request log gives the next request: every request counted so far.
fn log_position(counters: &BTreeMap<String, u64>) -> u64 {
    counters.values().sum()
}

/// Seconds from `from` to `to`, if there is a `to`.
fn seconds(from: jiff::Timestamp, to: Option<jiff::Timestamp>) -> Option<f64> {
    to.map(|to| to.duration_since(from).as_secs_f64())
}

/// Phase one: the reports written while the tool runs; until it settles.
async fn initial(
    stage: &Stage<'_>,
    tool: Tool,
    running: &Running,
    seeded: &HashSet<String>,
) -> anyhow::Result<Initial> {
    let before = stage.emulator.counters().await?;
    let (started, wall) = (Instant::now(), jiff::Timestamp::now());
    reports::write(&stage.plane.client, tool.namespace(), Phase::Initial).await?;
    settle(stage, running, &before, true).await?;
    let calls = Calls::between(
        &before,
        &stage.emulator.counters().await?,
        1,
        started.elapsed(),
    );
    let log = tickets::call_log(stage.emulator, log_position(&before), wall).await?;
    let usage = running.usage()?;
    let made = tickets::list(stage.emulator, seeded).await?;
    Ok(Initial {
        failing_results: reports::failing_results(),
        tickets_made: made.len(),
        duplicates: tickets::duplicates(&made),
        seconds_to_last_ticket: seconds(wall, tickets::last_created(&made)),
        seconds_to_last_call: seconds(wall, log.last_call),
        calls,
        rate_limited: log.rate_limited,
        peak_rss_mib: usage.peak_rss_mib,
        cpu_seconds: usage.cpu_seconds,
    })
}

/// Phase two: the tool restarted, the flip written once the restart has settled; until it
/// settles again.
async fn flip(
    stage: &Stage<'_>,
    tool: Tool,
    running: Running,
    seeded: &HashSet<String>,
    made: usize,
) -> anyhow::Result<Flip> {
    let before = stage.emulator.counters().await?;
    let started = Instant::now();
    running.stop().await?;
    let running = tool.start(stage, 1).await?;
    // What the restart alone does (policy-reporter may send every result again) ends first.
    settle(stage, &running, &before, false).await?;
    let flipped = jiff::Timestamp::now();
    reports::write(&stage.plane.client, tool.namespace(), Phase::Flipped).await?;
    settle(stage, &running, &before, false).await?;
    let calls = Calls::between(
        &before,
        &stage.emulator.counters().await?,
        1,
        started.elapsed(),
    );
    let log = tickets::call_log(stage.emulator, log_position(&before), flipped).await?;
    let usage = running.usage()?;
    running.stop().await?;
    let all = tickets::list(stage.emulator, seeded).await?;
    Ok(Flip {
        results_flipped: reports::flipped_results(),
        tickets_made: all.len().saturating_sub(made),
        duplicates: tickets::duplicates(&all),
        tickets_closed: tickets::closed(&all),
        seconds_to_last_call: seconds(flipped, log.last_call),
        calls,
        rate_limited: log.rate_limited,
        peak_rss_mib: usage.peak_rss_mib,
        cpu_seconds: usage.cpu_seconds,
    })
}

/// Runs `tool` in its namespace against `stage`'s fresh emulator, through both phases.
pub async fn run(stage: &Stage<'_>, tool: Tool) -> anyhow::Result<ToolRun> {
    let load_start = load_average();
    crate::cluster::namespace(&stage.plane.client, tool.namespace()).await?;
    let configuration = tool.prepare(stage).await?;
    let seeded: HashSet<String> = tickets::list(stage.emulator, &HashSet::new())
        .await?
        .into_iter()
        .map(|t| t.key)
        .collect();
    let running = tool.start(stage, 0).await?;
    // policy-reporter compares creation times (whole seconds) with its own start: reports written
    // in the second it started would count as existing before it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    eprintln!("side-by-side: {} ready; writing the reports", tool.name());
    let initial = initial(stage, tool, &running, &seeded).await?;
    eprintln!(
        "side-by-side: {}: {} tickets; restarting it and flipping {} results",
        tool.name(),
        initial.tickets_made,
        reports::flipped_results()
    );
    let flip = flip(stage, tool, running, &seeded, initial.tickets_made).await?;
    Ok(ToolRun {
        tool: tool.name(),
        namespace: tool.namespace().to_owned(),
        configuration,
        initial,
        flip,
        load_average: (load_start, load_average()),
    })
}
