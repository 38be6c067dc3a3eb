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
use crate::operator::Operator;
use crate::phases::{self, EventSite, WEBHOOK_SECRET, quiet};
use crate::report::{Calls, Case, Latency, Resources, load_average};
use crate::tasks::{self, TaskBoard, all_show, task_name};

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

/// The floor runs of a case so far.
#[derive(Default)]
pub struct FloorRuns {
    pub api: Vec<f64>,
    pub jira: Vec<f64>,
}

impl FloorRuns {
    /// One run of each floor: `n` status patches `writers` at once, and the tickets of `shape`
    /// created `bulk_calls` at a time.
    pub async fn measure(
        &mut self,
        bench: &Bench,
        (floor_namespace, n, writers): (&str, usize, usize),
        emulator: &Emulator,
        (shape, bulk_calls): (&[(usize, usize)], usize),
    ) -> anyhow::Result<()> {
        self.api
            .push(floors::api_server(bench, floor_namespace, n, writers).await?);
        self.jira
            .push(floors::jira(emulator, shape, bulk_calls).await?);
        Ok(())
    }
}

/// Runs one case, with its floors measured before and after it.
pub async fn run(bench: &Bench, case: &CaseRun<'_>) -> anyhow::Result<Case> {
    let (n, mode) = (case.n, case.mode);
    let load_start = load_average();
    let client = &bench.plane.client;
    let ns = format!(
        "bench-{}-{n}-{}",
        mode.name().to_lowercase(),
        case.repetition
    );
    namespace(client, &ns).await?;
    let emulator =
        Emulator::start(&bench.dir.join(format!("{ns}-emulator.log")), ASSIGNEES).await?;
    let groups = units(n, mode, task_name).len();
    let shape = [(groups, n.div_ceil(groups.max(1)))];
    let floor = (case.floor_namespace, n, STATUS_WRITERS_PER_SYNC);
    let mut floor_runs = FloorRuns::default();
    for _ in 0..floors::RUNS_BEFORE {
        floor_runs
            .measure(bench, floor, &emulator, (&shape, BULK_CALLS_PER_SYNC))
            .await?;
    }
    let (observer, mut changes) = status_observer().await?;
    let observed = format!("http://{observer}/observe");
    emulator
        .register_webhook("bench observer", &observed, None, "project = SEC")
        .await?;
    phases::connection(client, &ns, &emulator.base_url).await?;
    tasks::create(client, &ns, n, (ASSIGNEES, &["bench"])).await?;
    let board = TaskBoard::watch(client, &ns);
    board
        .wait("the task list", Duration::from_secs(120), |b| b.len() == n)
        .await?;
    let namespaces = [ns.clone()];
    let log = bench.dir.join(format!("{ns}-operator.log"));
    let operator = Operator::start(&bench.plane.kubeconfig, &namespaces, &log).await?;
    let hook = format!("http://{}/webhooks/jira/{ns}/bench", operator.listen);
    emulator
        .register_webhook(
            "jira-active-sync",
            &hook,
            Some(WEBHOOK_SECRET),
            "project = SEC",
        )
        .await?;
    phases::connection_ready(client, &ns).await?;
    eprintln!("[{ns}] {n} tasks, operator ready; initial sync");

    let patience = Duration::from_secs(120) + Duration::from_millis(60 * n as u64);
    let initial = initial_sync(bench, &ns, mode, (&emulator, &operator, &board), patience).await?;
    let resync_no_change = phases::poked_resync((&ns, SYNC, n), &emulator, &operator).await?;
    let restart = (
        bench.plane.kubeconfig.as_path(),
        &namespaces[..],
        log.as_path(),
    );
    let (operator, restarted) = phases::restart(operator, &emulator, restart, (1, n)).await?;

    // Completing 10% of the tasks: whole assignee groups, so Batch tickets close too.
    eprintln!("[{ns}] completing 10%");
    let ten: Vec<String> = (0..n)
        .filter(|i| i % ASSIGNEES < ASSIGNEES / 10)
        .map(task_name)
        .collect();
    let site = EventSite {
        client,
        namespace: &ns,
        board: &board,
    };
    let complete_ten_percent = complete(&site, &ten, (&emulator, &operator), patience).await?;

    let units = units(n, mode, task_name);
    let mut completed: HashSet<String> = ten.into_iter().collect();
    let cpu = operator.usage()?.cpu_seconds;
    eprintln!("[{ns}] latency task -> Jira ({} events)", bench.events);
    let task_to_jira =
        phases::task_to_jira(&site, &units, bench.events, &mut completed, &mut changes).await?;
    let cpu_task = operator.usage()?.cpu_seconds;
    eprintln!("[{ns}] latency Jira -> task ({} events)", bench.events);
    let open = phases::open_units(&units, &completed);
    let jira_to_task = phases::jira_to_task(&emulator, &board, &open, bench.events).await?;
    let usage = operator.usage()?;
    let per_event = |cpu: f64| cpu * 1000.0 / bench.events.max(1) as f64;
    operator.stop().await?;
    eprintln!("[{ns}] floors after the case");
    emulator.reset().await?;
    floor_runs
        .measure(bench, floor, &emulator, (&shape, BULK_CALLS_PER_SYNC))
        .await?;
    Ok(Case {
        mode: mode.name().to_owned(),
        tasks: n,
        repetition: case.repetition,
        tickets: initial.tickets,
        namespaces: 1,
        syncs: 1,
        convergence_seconds: initial.convergence,
        floor: Floor::of(initial.convergence, floor_runs.api, floor_runs.jira),
        initial_sync: initial.calls,
        resync_no_change,
        restart_no_change: Some(restarted),
        complete_ten_percent,
        task_to_jira: Latency::of(task_to_jira.taken, task_to_jira.missed),
        jira_to_task: Latency::of(jira_to_task.taken, jira_to_task.missed),
        cpu_ms_per_event: Some((
            per_event(cpu_task - cpu),
            per_event(usage.cpu_seconds - cpu_task),
        )),
        operator: Resources {
            peak_rss_mib: usage.peak_rss_mib,
            cpu_seconds_initial_sync: initial.cpu_seconds,
            cpu_seconds_total: usage.cpu_seconds,
        },
        load_average: (load_start, load_average()),
    })
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
