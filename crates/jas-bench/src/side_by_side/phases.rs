//! One tool through both phases, each against the same reports: 1,000 failing results written
//! while it runs; then the tool restarted and 10% of the results flipped to `pass`.

use std::collections::BTreeMap;
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

/// Waits until the tool has been quiet for [`QUIET`] (after at least one Jira write, if
/// `need_write`); returns when it was last seen active.
async fn settle(
    stage: &Stage<'_>,
    running: &Running,
    before: &BTreeMap<String, u64>,
    need_write: bool,
) -> anyhow::Result<Instant> {
    let started = Instant::now();
    let mut last = (BTreeMap::new(), u64::MAX);
    let mut since = started;
    loop {
        let now = (stage.emulator.counters().await?, running.activity().await?);
        let wrote = Calls::between(before, &now.0, 1, Duration::ZERO).writes > 0;
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= QUIET && (wrote || !need_write) {
            return Ok(since);
        }
        if started.elapsed() > PATIENCE {
            bail!("the tool did not settle within {PATIENCE:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The number the emulator's request log gives the next request: every request counted so far.
fn log_position(counters: &BTreeMap<String, u64>) -> u64 {
    counters.values().sum()
}

/// Phase one: the reports written while the tool runs; until it settles.
async fn initial(stage: &Stage<'_>, tool: Tool, running: &Running) -> anyhow::Result<Initial> {
    let before = stage.emulator.counters().await?;
    let position = log_position(&before);
    let (started, wall) = (Instant::now(), jiff::Timestamp::now());
    reports::write(&stage.plane.client, tool.namespace(), Phase::Initial).await?;
    let active = settle(stage, running, &before, true).await?;
    let calls = Calls::between(
        &before,
        &stage.emulator.counters().await?,
        1,
        started.elapsed(),
    );
    let rate_limited = tickets::rate_limited(stage.emulator, position).await?;
    let usage = running.usage()?;
    let made = tickets::list(stage.emulator).await?;
    Ok(Initial {
        failing_results: reports::failing_results(),
        tickets_made: made.len(),
        duplicates: tickets::duplicates(&made),
        seconds_to_last_ticket: tickets::last_created(&made)
            .map(|last| last.duration_since(wall).as_secs_f64()),
        settle_seconds: active.duration_since(started).as_secs_f64(),
        calls,
        rate_limited,
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
    made: usize,
) -> anyhow::Result<Flip> {
    let before = stage.emulator.counters().await?;
    let position = log_position(&before);
    running.stop().await?;
    let started = Instant::now();
    let running = tool.start(stage, 1).await?;
    // What the restart alone does (policy-reporter may send every result again) ends first.
    settle(stage, &running, &before, false).await?;
    reports::write(&stage.plane.client, tool.namespace(), Phase::Flipped).await?;
    let active = settle(stage, &running, &before, false).await?;
    let calls = Calls::between(
        &before,
        &stage.emulator.counters().await?,
        1,
        started.elapsed(),
    );
    let rate_limited = tickets::rate_limited(stage.emulator, position).await?;
    let usage = running.usage()?;
    running.stop().await?;
    let all = tickets::list(stage.emulator).await?;
    Ok(Flip {
        results_flipped: reports::flipped_results(),
        tickets_made: all.len().saturating_sub(made),
        duplicates: tickets::duplicates(&all),
        tickets_closed: tickets::closed(&all),
        settle_seconds: active.duration_since(started).as_secs_f64(),
        calls,
        rate_limited,
        peak_rss_mib: usage.peak_rss_mib,
        cpu_seconds: usage.cpu_seconds,
    })
}

/// Runs `tool` in its namespace against `stage`'s fresh emulator, through both phases.
pub async fn run(stage: &Stage<'_>, tool: Tool) -> anyhow::Result<ToolRun> {
    let load_start = load_average();
    crate::cluster::namespace(&stage.plane.client, tool.namespace()).await?;
    let configuration = tool.prepare(stage).await?;
    let running = tool.start(stage, 0).await?;
    // policy-reporter compares creation times (whole seconds) with its own start: reports written
    // in the second it started would count as existing before it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    eprintln!("side-by-side: {} ready; writing the reports", tool.name());
    let initial = initial(stage, tool, &running).await?;
    eprintln!(
        "side-by-side: {}: {} tickets; restarting it and flipping {} results",
        tool.name(),
        initial.tickets_made,
        reports::flipped_results()
    );
    let flip = flip(stage, tool, running, initial.tickets_made).await?;
    Ok(ToolRun {
        tool: tool.name(),
        namespace: tool.namespace().to_owned(),
        configuration,
        initial,
        flip,
        load_average: (load_start, load_average()),
    })
}
