//! The fleet case: N tasks over 50 namespaces and 100 syncs (in each namespace one Individual and
//! one Batch sync, each owning half its tasks), all on one operator process and one Jira site,
//! through the same phases as a single sync's case.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use futures::future::try_join_all;
use futures::{StreamExt, TryStreamExt, stream};

use crate::Mode;
use crate::cluster::namespace;
use crate::floors::{BULK_CALLS_PER_SYNC, STATUS_WRITERS_PER_SYNC};
use crate::jira::{Emulator, status_observer};
use crate::operator::Operator;
use crate::phases::{self, EventSite, Samples, WEBHOOK_SECRET, quiet};
use crate::report::{Calls, Case, load_average};
use crate::scenario::{ASSIGNEES, Bench, FloorRuns, Initial, Measured, Shape, units};
use crate::tasks::{self, TaskBoard, all_show, task_name};

/// Namespaces of a fleet.
pub const NAMESPACES: usize = 50;
/// The syncs of each namespace: (name and check, mode).
const SYNCS: [(&str, Mode); 2] = [("individual", Mode::Individual), ("batch", Mode::Batch)];

/// One namespace of the fleet.
struct Member {
    namespace: String,
    board: TaskBoard,
    /// Its tasks (even: Individual, odd: Batch).
    tasks: usize,
}

impl Member {
    /// The names of the tasks of the sync at `index` in [`SYNCS`].
    fn of_sync(&self, index: usize) -> impl Fn(usize) -> String {
        move |i| task_name(i * SYNCS.len() + index)
    }

    fn tasks_of_sync(&self, index: usize) -> usize {
        (self.tasks + SYNCS.len() - 1 - index) / SYNCS.len()
    }
}

/// The tickets a fleet of `n` tasks needs: (tickets, tasks each) for its Individual and its
/// Batch syncs.
fn shape(n: usize) -> [(usize, usize); 2] {
    let per_sync = n / NAMESPACES / SYNCS.len();
    let groups = ASSIGNEES.min(per_sync);
    [
        (n / SYNCS.len(), 1),
        (groups * NAMESPACES, per_sync.div_ceil(groups.max(1))),
    ]
}

/// Runs the fleet case of `n` tasks (run `repetition`), floors measured before and after it.
pub async fn run(
    bench: &Bench,
    (n, repetition, floor_namespace): (usize, usize, &str),
) -> anyhow::Result<Case> {
    let load_start = load_average();
    let name = format!("fleet-{n}-{repetition}");
    let emulator =
        Emulator::start(&bench.dir.join(format!("{name}-emulator.log")), ASSIGNEES).await?;
    // Every sync of the fleet reconciles at once: one scope per namespace, each reconciling up to
    // four syncs, with 16 status writers and one bulk create in flight per sync.
    let syncs = NAMESPACES * SYNCS.len();
    let floor = (floor_namespace, n, STATUS_WRITERS_PER_SYNC * syncs);
    let jira_floor = (&shape(n)[..], BULK_CALLS_PER_SYNC * syncs);
    let floor_runs = FloorRuns::first(bench, floor, &emulator, jira_floor).await?;
    let members = prepare(bench, &emulator, (n, repetition)).await?;
    let log = bench.dir.join(format!("{name}-operator.log"));
    let measured = measure(bench, &members, &emulator, &log).await?;
    let floor = floor_runs
        .last(
            bench,
            (floor, jira_floor),
            &emulator,
            measured.initial.convergence,
        )
        .await?;
    let shape = Shape {
        mode: "Fleet",
        tasks: n,
        repetition,
        namespaces: NAMESPACES,
        syncs,
        flavor: "Cloud",
    };
    Ok(measured.case(shape, floor, load_start))
}

/// The operator started on the fleet's namespaces, then the phases of a case; the operator is
/// stopped at the end.
async fn measure(
    bench: &Bench,
    members: &[Member],
    emulator: &Emulator,
    log: &Path,
) -> anyhow::Result<Measured> {
    let n: usize = members.iter().map(|m| m.tasks).sum();
    let syncs = members.len() * SYNCS.len();
    let namespaces: Vec<String> = members.iter().map(|m| m.namespace.clone()).collect();
    let operator = Operator::start(&bench.plane.kubeconfig, &namespaces, log).await?;
    register_webhooks(emulator, &operator, &namespaces).await?;
    for ns in &namespaces {
        phases::connection_ready(&bench.plane.client, ns).await?;
    }
    eprintln!(
        "[fleet {n}] {syncs} syncs over {} namespaces; initial sync",
        members.len()
    );
    let patience = Duration::from_secs(180) + Duration::from_millis(60 * n as u64);
    let initial = initial_sync(bench, members, (emulator, &operator), patience).await?;
    let first = &members[0];
    let resync = (first.namespace.as_str(), SYNCS[0].0, first.tasks_of_sync(0));
    let resync_no_change = phases::poked_resync(resync, emulator, &operator).await?;
    let restart = (bench.plane.kubeconfig.as_path(), &namespaces[..], log);
    let (operator, restart_no_change, first) =
        phases::restart(operator, emulator, restart, (syncs as u64, n)).await?;
    eprintln!("[fleet {n}] completing 10%");
    let complete_ten_percent =
        complete_ten(bench, members, (emulator, &operator), patience).await?;
    let (task_to_jira, jira_to_task, cpu_ms_per_event) =
        latencies(bench, members, (emulator, &operator)).await?;
    let usage = operator.usage()?.after(first);
    operator.stop().await?;
    Ok(Measured {
        initial,
        resync_no_change,
        full_resync_no_change: None,
        restart_no_change,
        complete_ten_percent,
        task_to_jira,
        jira_to_task,
        cpu_ms_per_event,
        usage,
    })
}

/// The namespaces with their connection and tasks, each watched by a board.
async fn prepare(
    bench: &Bench,
    emulator: &Emulator,
    (n, repetition): (usize, usize),
) -> anyhow::Result<Vec<Member>> {
    let client = &bench.plane.client;
    let per_namespace = n / NAMESPACES;
    let checks: Vec<&str> = SYNCS.iter().map(|(check, _)| *check).collect();
    let members = (0..NAMESPACES).map(|i| {
        let ns = format!("fleet-{n}-{repetition}-{i:02}");
        let checks = &checks;
        async move {
            namespace(client, &ns).await?;
            phases::connection(client, &ns, emulator).await?;
            tasks::create(client, &ns, per_namespace, (ASSIGNEES, checks)).await?;
            let board = TaskBoard::watch(client, &ns);
            board
                .wait("the task list", Duration::from_secs(300), |b| {
                    b.len() == per_namespace
                })
                .await?;
            anyhow::Ok(Member {
                namespace: ns,
                board,
                tasks: per_namespace,
            })
        }
    });
    // A few namespaces at a time: each creates its tasks 16 at once.
    stream::iter(members).buffered(4).try_collect().await
}

/// One webhook per namespace, on its connection's path, for the tickets of its syncs.
async fn register_webhooks(
    emulator: &Emulator,
    operator: &Operator,
    namespaces: &[String],
) -> anyhow::Result<()> {
    for ns in namespaces {
        let labels: Vec<String> = SYNCS
            .iter()
            .map(|(sync, _)| Ok(format!("\"{}\"", crate::operator::sync_label(ns, sync)?)))
            .collect::<anyhow::Result<_>>()?;
        let jql = format!("labels in ({})", labels.join(", "));
        let hook = format!("http://{}/webhooks/jira/{ns}/bench", operator.listen);
        emulator
            .register_webhook(&format!("jas {ns}"), &hook, Some(WEBHOOK_SECRET), &jql)
            .await?;
    }
    Ok(())
}

/// From creating every sync to every task of every namespace showing its ticket, and the
/// operator quiet.
async fn initial_sync(
    bench: &Bench,
    members: &[Member],
    (emulator, operator): (&Emulator, &Operator),
    patience: Duration,
) -> anyhow::Result<Initial> {
    let client = &bench.plane.client;
    let n: usize = members.iter().map(|m| m.tasks).sum();
    let before = emulator.counters().await?;
    let started = Instant::now();
    let creates = members.iter().flat_map(|m| {
        SYNCS
            .iter()
            .map(|&(sync, mode)| phases::create_sync(client, &m.namespace, (sync, sync), mode))
    });
    try_join_all(creates).await?;
    for m in members {
        m.board
            .wait("every task to show its ticket", patience, |b| {
                b.with_key() == m.tasks
            })
            .await?;
    }
    let convergence = started.elapsed().as_secs_f64();
    quiet(emulator, operator).await?;
    let calls = Calls::between(&before, &emulator.counters().await?, n, started.elapsed());
    let mut tickets = HashSet::new();
    for m in members {
        tickets.extend((0..m.tasks).filter_map(|i| m.board.get(&task_name(i))?.key));
    }
    eprintln!(
        "[fleet {n}] converged in {convergence:.2}s ({} tickets)",
        tickets.len()
    );
    Ok(Initial {
        convergence,
        calls,
        tickets: tickets.len(),
        cpu_seconds: operator.usage()?.cpu_seconds,
    })
}

/// Completes 10% of every namespace's tasks at once: whole assignee groups, so Batch tickets
/// close too.
async fn complete_ten(
    bench: &Bench,
    members: &[Member],
    (emulator, operator): (&Emulator, &Operator),
    patience: Duration,
) -> anyhow::Result<Calls> {
    let before = emulator.counters().await?;
    let started = Instant::now();
    let mut completed = 0;
    for m in members {
        let ten = ten_percent(m);
        tasks::set_state(&bench.plane.client, &m.namespace, &ten, "Completed").await?;
        completed += ten.len();
    }
    for m in members {
        let ten = ten_percent(m);
        m.board
            .wait("the completed tasks to show Done", patience, |b| {
                all_show(b, &ten, "Done").is_some()
            })
            .await?;
    }
    quiet(emulator, operator).await?;
    let after = emulator.counters().await?;
    Ok(Calls::between(
        &before,
        &after,
        completed,
        started.elapsed(),
    ))
}

fn ten_percent(m: &Member) -> Vec<String> {
    (0..m.tasks)
        .filter(|i| (i / SYNCS.len()) % ASSIGNEES < ASSIGNEES / 10)
        .map(task_name)
        .collect()
}

fn site<'a>(bench: &'a Bench, m: &'a Member) -> EventSite<'a> {
    EventSite {
        client: &bench.plane.client,
        namespace: &m.namespace,
        board: &m.board,
    }
}

/// Both latencies over the fleet: event `i` happens in namespace `i mod 50`, on its Individual
/// sync for even `i` and its Batch sync for odd `i`. Gives the samples and the operator's CPU per
/// event (ms) in each direction.
async fn latencies(
    bench: &Bench,
    members: &[Member],
    (emulator, operator): (&Emulator, &Operator),
) -> anyhow::Result<(Samples, Samples, (f64, f64))> {
    let (observer, mut changes) = status_observer().await?;
    let observed = format!("http://{observer}/observe");
    emulator
        .register_webhook("bench observer", &observed, None, "project = SEC")
        .await?;
    let units_of =
        |m: &Member, index: usize| units(m.tasks_of_sync(index), SYNCS[index].1, m.of_sync(index));
    // Each namespace's completed tasks: task names repeat from one namespace to the next.
    let mut completed: Vec<HashSet<String>> = members
        .iter()
        .map(|m| ten_percent(m).into_iter().collect())
        .collect();
    let (mut to_jira, mut to_task) = (Samples::default(), Samples::default());
    let cpu = operator.usage()?.cpu_seconds;
    for i in 0..bench.events {
        let (m, done) = (
            &members[i % members.len()],
            &mut completed[i % members.len()],
        );
        let units = units_of(m, i % SYNCS.len());
        let unit = &units[(i / members.len()) % units.len()];
        let sample = phases::task_event(&site(bench, m), unit, done, &mut changes).await?;
        to_jira.record(sample);
    }
    let cpu_task = operator.usage()?.cpu_seconds;
    for i in 0..bench.events {
        let m = &members[i % members.len()];
        let units = units_of(m, i % SYNCS.len());
        let open = phases::open_units(&units, &completed[i % members.len()]);
        let Some(&unit) = open.get((i / members.len()) % open.len().max(1)) else {
            anyhow::bail!("no open tasks left to move in Jira in {}", m.namespace);
        };
        to_task.record(phases::jira_event(emulator, &m.board, unit).await?);
    }
    let cpu_done = operator.usage()?.cpu_seconds;
    let per_event = |cpu: f64| cpu * 1000.0 / bench.events.max(1) as f64;
    Ok((
        to_jira,
        to_task,
        (per_event(cpu_task - cpu), per_event(cpu_done - cpu_task)),
    ))
}
