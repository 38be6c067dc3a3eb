//! One case of the bench: N tasks synced by one sync in one mode, through every phase the issue
//! asks for — initial sync, a resync with nothing changed, a restart with nothing changed,
//! completing 10%, then both latencies — and the floors it is compared with.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::Mode;
use crate::cluster::{ControlPlane, namespace};
use crate::floors::{self, BULK_CALLS_PER_SYNC, Floor, STATUS_WRITERS_PER_SYNC};
use crate::jira::{Emulator, status_observer};
use crate::operator::{Operator, Usage};
use crate::phases::{self, EventSite, Samples, WEBHOOK_SECRET, quiet};
use crate::report::{Calls, Case, Latency, Resources, load_average};
use crate::tasks::{self, TaskBoard, all_show, task_name};
use jira_active_sync::jira::Flavor;

/// Assignees of the tasks (Batch mode makes a ticket per assignee).
pub const ASSIGNEES: usize = 50;
/// The sync's name in every case.
const SYNC: &str = "bench";

/// What every case shares.
pub struct Bench {
    /// The control plane.
    pub plane: ControlPlane,
    /// Where logs go.
    pub dir: PathBuf,
    /// Latency events per direction.
    pub events: usize,
    /// The Jira the single-sync cases run against.
    pub flavor: Flavor,
}

/// How results name a flavor.
pub fn flavor_name(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::Cloud => "Cloud",
        Flavor::DataCenter => "DataCenter",
    }
}

/// The tasks that move together: one task (Individual) or one assignee's tasks (Batch), of the
/// tasks `names` gives for 0..n.
pub fn units(n: usize, mode: Mode, names: impl Fn(usize) -> String) -> Vec<Vec<String>> {
    match mode {
        Mode::Individual => (0..n).map(|i| vec![names(i)]).collect(),
        Mode::Batch => (0..ASSIGNEES.min(n))
            .map(|g| (g..n).step_by(ASSIGNEES).map(&names).collect())
            .collect(),
    }
}

/// Where a case runs: its size and mode, which repetition it is, and the namespace of its API
/// server floor.
pub struct CaseRun<'a> {
    pub n: usize,
    pub mode: Mode,
    pub repetition: usize,
    pub floor_namespace: &'a str,
}

/// An API-server floor: the floor namespace, N status patches, how many in flight.
pub type ApiFloor<'a> = (&'a str, usize, usize);
/// A Jira floor: the tickets (how many, task sections each) and how many bulk creates in flight.
pub type JiraFloor<'a> = (&'a [(usize, usize)], usize);

/// The floor runs of a case so far.
#[derive(Default)]
pub struct FloorRuns {
    pub api: Vec<f64>,
    pub jira: Vec<f64>,
}

impl FloorRuns {
    /// The runs before a case.
    pub async fn first(
        bench: &Bench,
        api: ApiFloor<'_>,
        emulator: &Emulator,
        jira: JiraFloor<'_>,
    ) -> anyhow::Result<FloorRuns> {
        let mut runs = FloorRuns::default();
        for _ in 0..floors::RUNS_BEFORE {
            runs.measure(bench, api, emulator, jira).await?;
        }
        Ok(runs)
    }

    /// One run of each floor: `n` status patches `writers` at once, and the tickets of `shape`
    /// created `bulk_calls` at a time.
    pub async fn measure(
        &mut self,
        bench: &Bench,
        (floor_namespace, n, writers): ApiFloor<'_>,
        emulator: &Emulator,
        (shape, bulk_calls): JiraFloor<'_>,
    ) -> anyhow::Result<()> {
        self.api
            .push(floors::api_server(bench, floor_namespace, n, writers).await?);
        self.jira
            .push(floors::jira(emulator, shape, bulk_calls).await?);
        Ok(())
    }

    /// The run after the case (the emulator emptied first), and the floor of a case that
    /// converged in `convergence` seconds.
    pub async fn last(
        mut self,
        bench: &Bench,
        (api, jira): (ApiFloor<'_>, JiraFloor<'_>),
        emulator: &Emulator,
        convergence: f64,
    ) -> anyhow::Result<Floor> {
        emulator.reset().await?;
        self.measure(bench, api, emulator, jira).await?;
        Ok(Floor::of(convergence, self.api, self.jira))
    }
}

/// Runs one case, with its floors measured before and after it.
pub async fn run(bench: &Bench, case: &CaseRun<'_>) -> anyhow::Result<Case> {
    let (n, mode) = (case.n, case.mode);
    let load_start = load_average();
    let ns = format!(
        "bench-{}-{n}-{}",
        mode.name().to_lowercase(),
        case.repetition
    );
    namespace(&bench.plane.client, &ns).await?;
    let log = bench.dir.join(format!("{ns}-emulator.log"));
    let emulator = Emulator::start_as(&log, ASSIGNEES, bench.flavor).await?;
    let groups = units(n, mode, task_name).len();
    let shape = [(groups, n.div_ceil(groups.max(1)))];
    let floor = (case.floor_namespace, n, STATUS_WRITERS_PER_SYNC);
    let jira_floor = (&shape[..], BULK_CALLS_PER_SYNC);
    let floor_runs = FloorRuns::first(bench, floor, &emulator, jira_floor).await?;
    let (operator, board) = stage(bench, &ns, n, &emulator).await?;
    let measured = measure(bench, (&ns, mode), &emulator, operator, &board).await?;
    eprintln!("[{ns}] floors after the case");
    let floor = floor_runs
        .last(
            bench,
            (floor, jira_floor),
            &emulator,
            measured.initial.convergence,
        )
        .await?;
    let shape = Shape {
        mode: mode.name(),
        tasks: n,
        repetition: case.repetition,
        namespaces: 1,
        syncs: 1,
        flavor: flavor_name(bench.flavor),
    };
    Ok(measured.case(shape, floor, load_start))
}

/// The case's namespace made ready: the connection, the tasks (watched by a board), the operator
/// and Jira's webhook to it.
async fn stage(
    bench: &Bench,
    ns: &str,
    n: usize,
    emulator: &Emulator,
) -> anyhow::Result<(Operator, TaskBoard)> {
    let client = &bench.plane.client;
    phases::connection(client, ns, emulator).await?;
    tasks::create(client, ns, n, (ASSIGNEES, &["bench"])).await?;
    let board = TaskBoard::watch(client, ns);
    board
        .wait("the task list", Duration::from_secs(120), |b| b.len() == n)
        .await?;
    let log = bench.dir.join(format!("{ns}-operator.log"));
    let operator = Operator::start(&bench.plane.kubeconfig, &[ns.to_owned()], &log).await?;
    let hook = format!("http://{}/webhooks/jira/{ns}/bench", operator.listen);
    emulator
        .register_webhook(
            "jira-active-sync",
            &hook,
            Some(WEBHOOK_SECRET),
            "project = SEC",
        )
        .await?;
    phases::connection_ready(client, ns).await?;
    eprintln!("[{ns}] {n} tasks, operator ready; initial sync");
    Ok((operator, board))
}

/// What the phases of a case measured.
pub struct Measured {
    pub initial: Initial,
    pub resync_no_change: Calls,
    pub full_resync_no_change: Option<Calls>,
    pub restart_no_change: Calls,
    pub complete_ten_percent: Calls,
    pub task_to_jira: Samples,
    pub jira_to_task: Samples,
    pub cpu_ms_per_event: (f64, f64),
    pub usage: Usage,
}

/// Which case a record is of: mode, tasks, repetition, namespaces, syncs.
pub struct Shape<'a> {
    pub mode: &'a str,
    pub tasks: usize,
    pub repetition: usize,
    pub namespaces: usize,
    pub syncs: usize,
    pub flavor: &'a str,
}

impl Measured {
    /// The case's record.
    pub fn case(self, shape: Shape<'_>, floor: Floor, load_start: f64) -> Case {
        Case {
            mode: shape.mode.to_owned(),
            tasks: shape.tasks,
            repetition: shape.repetition,
            tickets: self.initial.tickets,
            namespaces: shape.namespaces,
            syncs: shape.syncs,
            convergence_seconds: self.initial.convergence,
            floor,
            initial_sync: self.initial.calls,
            resync_no_change: self.resync_no_change,
            full_resync_no_change: self.full_resync_no_change,
            flavor: shape.flavor.to_owned(),
            restart_no_change: Some(self.restart_no_change),
            complete_ten_percent: self.complete_ten_percent,
            task_to_jira: Latency::of(self.task_to_jira.taken, self.task_to_jira.missed),
            jira_to_task: Latency::of(self.jira_to_task.taken, self.jira_to_task.missed),
            cpu_ms_per_event: Some(self.cpu_ms_per_event),
            operator: Resources {
                peak_rss_mib: self.usage.peak_rss_mib,
                cpu_seconds_initial_sync: self.initial.cpu_seconds,
                cpu_seconds_total: self.usage.cpu_seconds,
            },
            load_average: (load_start, load_average()),
        }
    }
}

/// The phases: initial sync, a poked resync, a restart, completing 10% (whole assignee groups, so
/// Batch tickets close too), then both latencies; the operator is stopped at the end.
async fn measure(
    bench: &Bench,
    (ns, mode): (&str, Mode),
    emulator: &Emulator,
    operator: Operator,
    board: &TaskBoard,
) -> anyhow::Result<Measured> {
    let n = board.len();
    let mut changes = observe(emulator).await?;
    let patience = Duration::from_secs(120) + Duration::from_millis(60 * n as u64);
    let initial = initial_sync(bench, ns, mode, (emulator, &operator, board), patience).await?;
    let resync_no_change = phases::poked_resync((ns, SYNC, n), emulator, &operator).await?;
    let client = &bench.plane.client;
    let full_resync = phases::full_resync(client, (ns, SYNC, n), emulator, &operator).await?;
    let (log, namespaces) = (
        bench.dir.join(format!("{ns}-operator.log")),
        [ns.to_owned()],
    );
    let restart = (
        bench.plane.kubeconfig.as_path(),
        &namespaces[..],
        log.as_path(),
    );
    let (operator, restart_no_change, first) =
        phases::restart(operator, emulator, restart, (1, n)).await?;
    eprintln!("[{ns}] completing 10%");
    let ten = ten_percent(n);
    let site = EventSite {
        client,
        namespace: ns,
        board,
    };
    let complete_ten_percent = complete(&site, &ten, (emulator, &operator), patience).await?;
    let units = units(n, mode, task_name);
    let completed: HashSet<String> = ten.into_iter().collect();
    let (task_to_jira, jira_to_task, cpu_ms_per_event) = latencies(
        bench,
        &site,
        (emulator, &operator),
        (&units, completed),
        &mut changes,
    )
    .await?;
    let usage = operator.usage()?.after(first);
    operator.stop().await?;
    Ok(Measured {
        initial,
        resync_no_change,
        full_resync_no_change: Some(full_resync),
        restart_no_change,
        complete_ten_percent,
        task_to_jira,
        jira_to_task,
        cpu_ms_per_event,
        usage,
    })
}

/// The tasks completed in the 10% phase: whole assignee groups, so Batch tickets close too.
fn ten_percent(n: usize) -> Vec<String> {
    (0..n)
        .filter(|i| i % ASSIGNEES < ASSIGNEES / 10)
        .map(task_name)
        .collect()
}

/// The status changes of the tickets, as the emulator's webhook reports them.
async fn observe(
    emulator: &Emulator,
) -> anyhow::Result<tokio::sync::mpsc::UnboundedReceiver<crate::jira::StatusChange>> {
    let (observer, changes) = status_observer().await?;
    let observed = format!("http://{observer}/observe");
    emulator
        .register_webhook("bench observer", &observed, None, "project = SEC")
        .await?;
    Ok(changes)
}

/// Both latencies, `bench.events` each, and the operator's CPU per event (ms) in each direction.
async fn latencies(
    bench: &Bench,
    site: &EventSite<'_>,
    (emulator, operator): (&Emulator, &Operator),
    (units, mut completed): (&[Vec<String>], HashSet<String>),
    changes: &mut tokio::sync::mpsc::UnboundedReceiver<crate::jira::StatusChange>,
) -> anyhow::Result<(Samples, Samples, (f64, f64))> {
    let (ns, events) = (site.namespace, bench.events);
    let cpu = operator.usage()?.cpu_seconds;
    eprintln!("[{ns}] latency task -> Jira ({events} events)");
    let task_to_jira = phases::task_to_jira(site, units, events, &mut completed, changes).await?;
    let cpu_task = operator.usage()?.cpu_seconds;
    eprintln!("[{ns}] latency Jira -> task ({events} events)");
    let open = phases::open_units(units, &completed);
    let jira_to_task = phases::jira_to_task(emulator, site.board, &open, events).await?;
    let cpu_done = operator.usage()?.cpu_seconds;
    let per_event = |cpu: f64| cpu * 1000.0 / events.max(1) as f64;
    let cpu_ms = (per_event(cpu_task - cpu), per_event(cpu_done - cpu_task));
    Ok((task_to_jira, jira_to_task, cpu_ms))
}

/// What the initial sync measured.
pub struct Initial {
    pub convergence: f64,
    pub calls: Calls,
    pub tickets: usize,
    pub cpu_seconds: f64,
}

/// From creating the sync to every task showing its ticket, and the operator quiet.
async fn initial_sync(
    bench: &Bench,
    ns: &str,
    mode: Mode,
    (emulator, operator, board): (&Emulator, &Operator, &TaskBoard),
    patience: Duration,
) -> anyhow::Result<Initial> {
    let n = board.len();
    let before = emulator.counters().await?;
    let started = Instant::now();
    phases::create_sync(&bench.plane.client, ns, (SYNC, "bench"), mode).await?;
    board
        .wait("every task to show its ticket", patience, |b| {
            b.with_key() == n
        })
        .await?;
    let convergence = started.elapsed().as_secs_f64();
    quiet(emulator, operator).await?;
    let calls = Calls::between(&before, &emulator.counters().await?, n, started.elapsed());
    let tickets: HashSet<String> = (0..n)
        .filter_map(|i| board.get(&task_name(i))?.key)
        .collect();
    eprintln!(
        "[{ns}] converged in {convergence:.2}s ({} tickets); resync",
        tickets.len()
    );
    Ok(Initial {
        convergence,
        calls,
        tickets: tickets.len(),
        cpu_seconds: operator.usage()?.cpu_seconds,
    })
}

/// Completes `tasks` and waits until they show Done and the operator is quiet.
pub async fn complete(
    site: &EventSite<'_>,
    tasks: &[String],
    (emulator, operator): (&Emulator, &Operator),
    patience: Duration,
) -> anyhow::Result<Calls> {
    let before = emulator.counters().await?;
    let started = Instant::now();
    tasks::set_state(site.client, site.namespace, tasks, "Completed").await?;
    site.board
        .wait("the completed tasks to show Done", patience, |b| {
            all_show(b, tasks, "Done").is_some()
        })
        .await?;
    quiet(emulator, operator).await?;
    let after = emulator.counters().await?;
    Ok(Calls::between(
        &before,
        &after,
        tasks.len(),
        started.elapsed(),
    ))
}
