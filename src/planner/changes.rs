//! Planning only what changed. A sync's tasks and tickets fall into units, one per ticket identity
//! (a task in Individual mode, an assignee's tasks in Batch mode). A unit whose plan came out empty
//! is settled, with a fingerprint of everything its plan is made from: while that fingerprint and
//! the sync-wide inputs stay the same, its plan stays empty, so a pass plans only the other units.
//! The caller starts again from nothing ([`Settled::default`]) for a full plan at a slow cadence.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use foldhash::fast::FixedState;

use super::desired::identity_of;
use super::identity::GroupKey;
use super::inputs::{ObservedTicket, PlanInput};
use super::plan::{Counts, Plan, plan};
use super::steps::{Step, TaskWrite};
use crate::api::TaskState;
use crate::jira::StatusCategory;

/// The units a pass left settled: their plan was empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    /// Fingerprint of the sync-wide inputs the units were settled under.
    scope: u64,
    /// Settled units by identity label.
    units: HashMap<String, SettledUnit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SettledUnit {
    fingerprint: u64,
    counts: Counts,
}

impl Settled {
    /// How many units are settled.
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// Whether no unit is settled (the next plan is a full one).
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }
}

/// The plan of the units that changed, and the units settled after it.
#[derive(Debug, Clone)]
pub struct ChangedPlan {
    /// The plan a full plan would give (settled units plan nothing), with counts over every unit;
    /// only its warnings are limited to the units planned.
    pub plan: Plan,
    /// What the next pass may leave out.
    pub settled: Settled,
    /// Units planned in this pass; the others were settled and unchanged.
    pub planned: usize,
}

/// A unit's tasks and tickets, by index into the plan input.
#[derive(Debug, Default)]
struct Unit {
    tasks: Vec<usize>,
    tickets: Vec<usize>,
}

/// Plans the units of `input` that are not settled unchanged in `settled`.
pub fn plan_changes(input: &PlanInput<'_>, settled: &Settled) -> ChangedPlan {
    let scope = scope_fingerprint(input);
    let (units, always) = units(input);
    let usable = settled.scope == scope && input.pending_creates.is_empty();
    let mut next = Settled {
        scope,
        units: HashMap::new(),
    };
    let mut clean = Counts::default();
    let mut dirty: BTreeMap<&str, u64> = BTreeMap::new();
    for (label, unit) in &units {
        let fingerprint = fingerprint(input, unit);
        match settled.units.get(label.as_str()) {
            Some(s) if usable && s.fingerprint == fingerprint && !unit.tasks.is_empty() => {
                add(&mut clean, s.counts);
                next.units.insert(label.clone(), *s);
            }
            _ => {
                dirty.insert(label, fingerprint);
            }
        }
    }
    let mut plan = if next.units.is_empty() {
        plan(input)
    } else {
        plan_units(input, &units, &dirty, &always)
    };
    add(&mut plan.counts, clean);
    if plan.wait_until.is_none() {
        let touched = touched(input, (&units, &dirty), &plan);
        for (label, fingerprint) in &dirty {
            let unit = &units[*label];
            if !unit.tasks.is_empty() && !touched.contains(label) {
                let counts = unit_counts(input, unit);
                let fingerprint = *fingerprint;
                next.units.insert(
                    (*label).to_owned(),
                    SettledUnit {
                        fingerprint,
                        counts,
                    },
                );
            }
        }
    }
    ChangedPlan {
        plan,
        settled: next,
        planned: dirty.len(),
    }
}

/// The plan of the dirty units alone, with the tickets that belong to no unit.
fn plan_units(
    input: &PlanInput<'_>,
    units: &BTreeMap<String, Unit>,
    dirty: &BTreeMap<&str, u64>,
    always: &[usize],
) -> Plan {
    let members = dirty.keys().map(|label| &units[*label]);
    let (mut tasks, mut tickets): (Vec<usize>, Vec<usize>) = (Vec::new(), always.to_vec());
    for unit in members {
        tasks.extend(&unit.tasks);
        tickets.extend(&unit.tickets);
    }
    tasks.sort_unstable();
    tickets.sort_unstable();
    let part = PlanInput {
        sync: input.sync.clone(),
        tasks: tasks.into_iter().map(|i| input.tasks[i].clone()).collect(),
        others: input.others.clone(),
        tickets: tickets
            .into_iter()
            .map(|i| Arc::clone(&input.tickets[i]))
            .collect(),
        accounts: input.accounts.clone(),
        pending_creates: input.pending_creates.clone(),
        search_settle: input.search_settle,
        now: input.now,
    };
    plan(&part)
}

/// The tasks and tickets by unit (identity label), and the tickets of no unit: those without an
/// identity, in another project, or not kept by the sync, which every pass plans.
fn units(input: &PlanInput<'_>) -> (BTreeMap<String, Unit>, Vec<usize>) {
    let sync = &input.sync;
    let mut units: BTreeMap<String, Unit> = BTreeMap::new();
    for (i, task) in input.tasks.iter().enumerate() {
        let label = identity_of(sync.spec.mode, task).label();
        units.entry(label).or_default().tasks.push(i);
    }
    let mut always = Vec::new();
    for (i, ticket) in input.tickets.iter().enumerate() {
        let ours = sync.labels.keeps(&ticket.labels) && ticket.project == sync.spec.jira.project;
        match ticket.identity_label() {
            Some(label) if ours => units.entry(label).or_default().tickets.push(i),
            _ => always.push(i),
        }
    }
    (units, always)
}

/// Everything a unit's plan is made from besides the sync-wide inputs: its tasks, its tickets and
/// how its assignees resolved.
fn fingerprint(input: &PlanInput<'_>, unit: &Unit) -> u64 {
    let mut hasher = hasher();
    for &i in &unit.tasks {
        let task = &input.tasks[i];
        task.hash(&mut hasher);
        let email = GroupKey::of(task.spec.assignee.as_deref());
        email
            .email()
            .and_then(|e| input.accounts.get(e))
            .hash(&mut hasher);
    }
    for &i in &unit.tickets {
        input.tickets[i].as_ref().hash(&mut hasher);
    }
    hasher.finish()
}

/// The same hasher in every pass of the process: fingerprints are compared, never stored.
fn hasher() -> impl Hasher {
    FixedState::with_seed(0x6a61_735f_706c_616e).build_hasher()
}

/// The sync-wide inputs: the sync (spec, labels, site flavor), the namespace's other tasks and how
/// long search may lag. A change to any of them plans every unit again.
fn scope_fingerprint(input: &PlanInput<'_>) -> u64 {
    let mut hasher = hasher();
    let sync = &input.sync;
    (sync.namespace, sync.name, &sync.labels.current).hash(&mut hasher);
    serde_json::to_string(sync.spec)
        .unwrap_or_default()
        .hash(&mut hasher);
    sync.flavor.hash(&mut hasher);
    input.others.hash(&mut hasher);
    input.search_settle.hash(&mut hasher);
    hasher.finish()
}

/// The units a plan acts on: through a ticket of theirs, a create of their identity, or a write
/// to one of their tasks.
fn touched<'u>(
    input: &PlanInput<'_>,
    (units, dirty): (&'u BTreeMap<String, Unit>, &BTreeMap<&'u str, u64>),
    plan: &Plan,
) -> HashSet<&'u str> {
    let mut by_key: HashMap<&str, &str> = HashMap::new();
    let mut by_task: HashMap<&str, &str> = HashMap::new();
    // Only the units planned can be acted on.
    for (label, unit) in dirty.keys().map(|l| (*l, &units[*l])) {
        for &i in &unit.tickets {
            by_key.insert(&input.tickets[i].key, label);
        }
        for &i in &unit.tasks {
            by_task.insert(&input.tasks[i].name, label);
        }
    }
    let mut touched = HashSet::new();
    for step in &plan.steps {
        let unit = match step {
            Step::Create(new) => units
                .get_key_value(&new.identity.label())
                .map(|(l, _)| &**l),
            other => other.key().and_then(|key| by_key.get(key).copied()),
        };
        touched.extend(unit);
    }
    for write in &plan.task_writes {
        let (TaskWrite::Status { task, .. } | TaskWrite::Complete { task, .. }) = write;
        touched.extend(by_task.get(task.as_str()).copied());
    }
    touched
}

/// What a unit whose plan is empty adds to the sync's counters: its tasks, and its ticket (the
/// oldest of its tickets: an empty plan means it has no duplicate) if it has one.
fn unit_counts(input: &PlanInput<'_>, unit: &Unit) -> Counts {
    let tasks = unit.tasks.iter().map(|&i| &input.tasks[i]);
    let completed = tasks
        .filter(|t| t.spec.state == TaskState::Completed)
        .count();
    let ticket = unit
        .tickets
        .iter()
        .map(|&i| &input.tickets[i])
        .min_by_key(|t| t.number());
    let done = ticket.is_some_and(|t: &Arc<ObservedTicket>| t.category == StatusCategory::Done);
    Counts {
        tasks_in_scope: u32::try_from(unit.tasks.len()).unwrap_or(u32::MAX),
        tasks_completed: u32::try_from(completed).unwrap_or(u32::MAX),
        tickets: u32::from(ticket.is_some()),
        tickets_done: u32::from(done),
    }
}

fn add(total: &mut Counts, more: Counts) {
    total.tasks_in_scope = total.tasks_in_scope.saturating_add(more.tasks_in_scope);
    total.tasks_completed = total.tasks_completed.saturating_add(more.tasks_completed);
    total.tickets = total.tickets.saturating_add(more.tickets);
    total.tickets_done = total.tickets_done.saturating_add(more.tickets_done);
}
