//! Planner tests against a simulated Jira: scenarios, and properties over random histories.

use proptest::prelude::*;

use super::simulation::{Change, NS, PERSON, SYNC, World, now, scenarios, spec, task};
use super::*;
use crate::api::{ClosureWhen, DeletionPolicy, JiraCompletion, JiraLabel, Mode, TaskState};
use crate::jira::{Flavor, IssueUpdate, StatusCategory};
use serde_json::json;

fn creates(steps: &[Step]) -> Vec<&NewTicket> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::Create(n) => Some(n),
            _ => None,
        })
        .collect()
}

fn is_close(step: &Step) -> bool {
    matches!(
        step,
        Step::Transition(TransitionStep {
            reason: TransitionReason::Close(_),
            ..
        })
    )
}

fn is_reopen(step: &Step, why: ReopenReason) -> bool {
    matches!(step, Step::Transition(TransitionStep { reason: TransitionReason::Reopen(r), .. }) if *r == why)
}

#[test]
fn every_scenario_converges_with_each_open_task_on_a_ticket_it_shares_only_with_its_group() {
    for scenario in scenarios() {
        let outcomes = World::run(&scenario);
        assert_eq!(
            outcomes.len(),
            scenario.rounds.len() + 1,
            "{}",
            scenario.name
        );
        let last = outcomes.last().expect("an outcome");
        let switches = scenario.rounds.iter().flatten();
        let switched = switches.filter(|c| **c == Change::SwitchMode).count() % 2 == 1;
        let individual = (scenario.spec.mode == Mode::Individual) != switched;
        for (name, task) in last {
            if task.state == TaskState::Open {
                assert!(
                    task.category.is_some(),
                    "{}: {name} has no ticket",
                    scenario.name
                );
            }
            if individual {
                assert!(task.companions.is_empty(), "{}: {name}", scenario.name);
            }
        }
    }
}

#[test]
fn individual_mode_creates_one_ticket_per_task_with_every_managed_field() {
    let mut world = World::new(
        spec(Mode::Individual),
        vec![
            task("a", Some("Alice@example.com"), TaskState::Open),
            task("b", None, TaskState::Open),
        ],
    );
    let steps = world.converge();
    let created = creates(&steps);
    assert_eq!(created.len(), 2);
    let a = created[0];
    assert_eq!(a.identity, TicketIdentity::Task("a".into()));
    assert_eq!(a.fields.summary, "Fix a");
    assert_eq!(
        a.fields.labels,
        vec!["compliance", "jas-task.a", "jas@sim.payments.vuln-sync"]
    );
    assert_eq!(a.fields.priority.as_deref(), Some("High"));
    assert_eq!(
        a.fields.assignee,
        Some(Assignee::Account("acc-alice".into()))
    );
    assert_eq!(a.fields.epic.as_deref(), Some("SEC-1"));
    assert_eq!(a.fields.due_date, Some(jiff::civil::date(2026, 12, 31)));
    assert_eq!(a.tasks, vec!["a"]);
    let text = a.fields.description.plain_text(Flavor::Cloud);
    assert!(
        text.contains("Instructions for a") && text.contains("Upgrade it"),
        "{text}"
    );
    assert_eq!(created[1].fields.assignee, Some(Assignee::Unassigned));
    assert!(world.tasks.iter().all(|t| t.recorded.is_some()));
}

#[test]
fn completing_a_task_closes_its_ticket_with_a_comment() {
    let mut world = World::new(
        spec(Mode::Individual),
        vec![task("a", None, TaskState::Open)],
    );
    world.converge();
    world.task_mut("a").spec.state = TaskState::Completed;
    let steps = world.converge();
    let key = world.key_of("a");
    assert!(
        matches!(
            &steps[..],
            [
                Step::Update {
                    property: Some(_),
                    ..
                },
                Step::Transition(TransitionStep {
                    reason: TransitionReason::Close(CloseReason::TasksCompleted),
                    ..
                }),
                // The close is recorded once it is made.
                Step::Update {
                    property: Some(TicketProperty { closed: true, .. }),
                    ..
                }
            ]
        ),
        "{steps:#?}"
    );
    assert!(world.comments[&key][0].contains("payments/a"));
    let recorded = world.tasks[0].recorded.clone().expect("status");
    assert_eq!(recorded.status_category.as_deref(), Some("done"));
}

/// A world whose ticket was closed with its completed task "a".
fn closed_with_its_task() -> World {
    let mut world = World::new(
        spec(Mode::Individual),
        vec![task("a", None, TaskState::Open)],
    );
    world.converge();
    world.task_mut("a").spec.state = TaskState::Completed;
    world.converge();
    world
}

/// The plan re-opens the ticket, and only then writes the property that records the task open.
fn assert_reopens_before_recording_open(steps: &[Step]) {
    assert!(
        matches!(
            steps,
            [
                Step::Transition(TransitionStep {
                    reason: TransitionReason::Reopen(_),
                    ..
                }),
                Step::Update {
                    property: Some(_),
                    ..
                }
            ]
        ),
        "{steps:#?}"
    );
}

#[test]
fn a_reopen_goes_before_the_property_that_records_the_task_open() {
    // A crash between the two must not leave a done ticket whose property says the task is open:
    // that reads as "closed in Jira" and, under jiraCompletion: Reflect, would stay done.
    let mut world = closed_with_its_task();
    world.task_mut("a").spec.state = TaskState::Open;
    assert_reopens_before_recording_open(&plan(&world.input()).steps);
}

#[test]
fn a_task_reopened_while_search_still_shows_its_ticket_open_is_reopened_first() {
    // An earlier pass closed the ticket; search does not show it yet. Writing the property that
    // records the task open without the re-open would leave, once search catches up, a done
    // ticket recording an open task: read as "closed in Jira", it would stay done.
    let mut lagging = closed_with_its_task();
    for ticket in &mut lagging.tickets {
        ticket.category = StatusCategory::New;
        ticket.status = "To Do".into();
    }
    lagging.task_mut("a").spec.state = TaskState::Open;
    assert_reopens_before_recording_open(&plan(&lagging.input()).steps);
}

#[test]
fn a_ticket_a_person_reopens_after_the_close_stays_open_and_its_task_shows_it() {
    let mut world = closed_with_its_task();
    let key = world.key_of("a");
    world.jira_transition(&key, false);
    let steps = world.converge();
    assert!(steps.is_empty(), "{steps:#?}");
    assert_eq!(world.comments[&key].len(), 1, "one Closed: comment");
    let recorded = world.tasks[0].recorded.clone().expect("status");
    assert_eq!(recorded.status_category.as_deref(), Some("new"));
    // The task re-opens (the ticket is open already) and completes again: closed again.
    world.task_mut("a").spec.state = TaskState::Open;
    world.converge();
    world.task_mut("a").spec.state = TaskState::Completed;
    assert!(world.converge().iter().any(is_close));
    assert_eq!(world.comments[&key].len(), 2);
}

#[test]
fn a_ticket_found_done_records_the_close_and_a_crash_before_the_close_still_closes() {
    // Properties written before the close was recorded: the done ticket records it once.
    let mut world = closed_with_its_task();
    let key = world.key_of("a");
    world
        .ticket(&key)
        .property
        .as_mut()
        .expect("property")
        .closed = false;
    let steps = world.converge();
    assert!(matches!(&steps[..], [Step::Update { property: Some(p), .. }] if p.closed));
    // A crash after the property recorded the task completed but before the close: still open
    // and not recorded closed, so the next pass closes it.
    world.jira_transition(&key, false);
    world
        .ticket(&key)
        .property
        .as_mut()
        .expect("property")
        .closed = false;
    assert!(world.converge().iter().any(is_close));
}

#[test]
fn a_person_taking_a_ticket_keeps_it_unless_the_task_names_a_known_assignee() {
    let tasks = vec![
        task("n", None, TaskState::Open),
        task("c", Some("carol@example.com"), TaskState::Open),
        task("a", Some("alice@example.com"), TaskState::Open),
    ];
    let mut world = World::new(spec(Mode::Individual), tasks);
    world.converge();
    for name in ["n", "c", "a"] {
        let key = world.key_of(name);
        world.ticket(&key).assignee = Some(PERSON.into());
    }
    let steps = world.converge();
    let key_a = world.key_of("a");
    assert!(
        matches!(&steps[..], [Step::Update { key, changes, .. }]
            if *key == key_a && changes.assignee == Some(Some("acc-alice".into()))),
        "only alice's ticket is put back: {steps:#?}"
    );
    // The task loses its assignee: the operator removes its own assignment only.
    world.task_mut("a").spec.assignee = None;
    world.converge();
    assert_eq!(world.ticket(&key_a).assignee, None);
    world.ticket(&key_a).assignee = Some(PERSON.into());
    assert!(world.converge().is_empty());
}

#[test]
fn closure_never_leaves_tickets_open() {
    let mut s = spec(Mode::Individual);
    s.closure.when = ClosureWhen::Never;
    let mut world = World::new(s, vec![task("a", None, TaskState::Open)]);
    world.converge();
    world.task_mut("a").spec.state = TaskState::Completed;
    let steps = world.converge();
    assert!(!steps.iter().any(is_close), "{steps:#?}");
}

#[test]
fn closure_without_comment_adds_none() {
    let mut s = spec(Mode::Individual);
    s.closure.comment = false;
    let mut world = World::new(s, vec![task("a", None, TaskState::Open)]);
    world.converge();
    world.task_mut("a").spec.state = TaskState::Completed;
    let steps = world.converge();
    assert!(steps.iter().any(
        |s| is_close(s) && matches!(s, Step::Transition(TransitionStep { comment: None, .. }))
    ));
}

#[test]
fn a_reopened_task_reopens_its_ticket_unless_reopen_is_off() {
    for reopen in [true, false] {
        let mut s = spec(Mode::Individual);
        s.closure.reopen = reopen;
        let mut world = World::new(s, vec![task("a", None, TaskState::Open)]);
        world.converge();
        world.task_mut("a").spec.state = TaskState::Completed;
        world.converge();
        let key = world.key_of("a");
        assert_eq!(world.ticket(&key).category, StatusCategory::Done);
        world.task_mut("a").spec.state = TaskState::Open;
        let steps = world.converge();
        let reopened = steps
            .iter()
            .any(|s| is_reopen(s, ReopenReason::TasksReopened));
        assert_eq!(reopened, reopen, "{steps:#?}");
    }
}

#[test]
fn done_in_jira_while_open_follows_jira_completion() {
    for mode in [
        JiraCompletion::Reflect,
        JiraCompletion::CompleteTasks,
        JiraCompletion::Reopen,
    ] {
        let mut s = spec(Mode::Batch);
        s.jira_completion = mode;
        let mut world = World::new(
            s,
            vec![
                task("a", Some("alice@example.com"), TaskState::Open),
                task("b", Some("alice@example.com"), TaskState::Open),
            ],
        );
        world.converge();
        let key = world.key_of("a");
        world.jira_transition(&key, true);
        let steps = world.converge();
        let category = world.ticket(&key).category;
        let states: Vec<TaskState> = world.tasks.iter().map(|t| t.spec.state).collect();
        match mode {
            JiraCompletion::Reflect => {
                assert_eq!(category, StatusCategory::Done);
                assert_eq!(states, vec![TaskState::Open; 2]);
                let shown = world.tasks[0]
                    .recorded
                    .as_ref()
                    .and_then(|r| r.status_category.clone());
                assert_eq!(shown.as_deref(), Some("done"), "{steps:#?}");
            }
            JiraCompletion::CompleteTasks => {
                assert_eq!(category, StatusCategory::Done);
                assert_eq!(states, vec![TaskState::Completed; 2], "{steps:#?}");
            }
            JiraCompletion::Reopen => {
                assert_eq!(category, StatusCategory::New);
                assert_eq!(states, vec![TaskState::Open; 2]);
                assert!(
                    world.comments[&key]
                        .iter()
                        .any(|c| c.contains("jiraCompletion: Reopen"))
                );
            }
        }
    }
}

#[test]
fn batch_mode_groups_by_assignee_and_rewrites_as_tasks_complete() {
    let alice = Some("alice@example.com");
    let bob = Some("bob@example.com");
    let mut world = World::new(
        spec(Mode::Batch),
        vec![
            task("a1", alice, TaskState::Open),
            task("a2", alice, TaskState::Open),
            task("a3", alice, TaskState::Open),
            task("b1", bob, TaskState::Open),
            task("b2", bob, TaskState::Open),
        ],
    );
    let steps = world.converge();
    let created = creates(&steps);
    assert_eq!(created.len(), 2);
    assert_eq!(created[0].tasks, vec!["a1", "a2", "a3"]);
    assert_eq!(
        created[0].fields.summary,
        "Compliance tasks: alice@example.com (3 open of 3)"
    );
    assert_eq!(
        created[0].fields.assignee,
        Some(Assignee::Account("acc-alice".into()))
    );
    let bob_key = world.key_of("b1");
    world.task_mut("b1").spec.state = TaskState::Completed;
    let steps = world.converge();
    assert!(
        matches!(&steps[..], [Step::Update { key, changes, .. }, ..] if *key == bob_key && changes.description.is_some() && changes.summary.is_some()),
        "{steps:#?}"
    );
    assert_eq!(world.ticket(&bob_key).category, StatusCategory::New);
    world.task_mut("b2").spec.state = TaskState::Completed;
    world.converge();
    assert_eq!(world.ticket(&bob_key).category, StatusCategory::Done);
    assert!(world.comments[&bob_key][0].contains("payments/b1, payments/b2"));
}

#[test]
fn a_new_task_joining_a_done_batch_reopens_it() {
    let alice = Some("alice@example.com");
    let mut world = World::new(spec(Mode::Batch), vec![task("a1", alice, TaskState::Open)]);
    world.converge();
    world.task_mut("a1").spec.state = TaskState::Completed;
    world.converge();
    let key = world.key_of("a1");
    assert_eq!(world.ticket(&key).category, StatusCategory::Done);
    world.tasks.push(task("a2", alice, TaskState::Open));
    let steps = world.converge();
    assert!(
        steps
            .iter()
            .any(|s| is_reopen(s, ReopenReason::TasksReopened))
    );
    assert_eq!(world.key_of("a2"), key);
}

#[test]
fn a_deleted_task_closes_its_ticket_with_a_comment_and_releases_it() {
    let mut world = World::new(
        spec(Mode::Individual),
        vec![
            task("a", None, TaskState::Open),
            task("b", None, TaskState::Open),
        ],
    );
    world.converge();
    let key = world.key_of("a");
    world.tasks.retain(|t| t.name != "a");
    let steps = world.converge();
    assert!(
        matches!(
            &steps[..],
            [
                Step::Transition(TransitionStep {
                    reason: TransitionReason::Close(CloseReason::TasksGone),
                    ..
                }),
                Step::Release { .. }
            ]
        ),
        "{steps:#?}"
    );
    assert!(world.comments[&key][0].contains("payments/a was deleted"));
    assert_eq!(
        world.ticket(&key).labels,
        ["compliance", "jas-released@sim.payments.vuln-sync"],
        "released: only the released label of the operator's is left"
    );
}

/// A world in `mode` whose two open tasks a1 and a2 are alice's, in step.
fn two_of_alice(mode: Mode) -> World {
    let alice = Some("alice@example.com");
    let tasks = vec![
        task("a1", alice, TaskState::Open),
        task("a2", alice, TaskState::Open),
    ];
    let mut world = World::new(spec(mode), tasks);
    world.converge();
    world
}

#[test]
fn a_task_leaving_a_batch_rewrites_the_ticket_and_an_emptied_group_closes() {
    let mut world = two_of_alice(Mode::Batch);
    let key = world.key_of("a1");
    world.task_mut("a1").spec.assignee = Some("bob@example.com".into());
    world.converge();
    assert_ne!(world.key_of("a1"), key);
    assert_eq!(world.membership()["a2"], vec![key.clone()]);
    world.task_mut("a2").spec.assignee = Some("bob@example.com".into());
    world.converge();
    assert!(world.comments[&key][0].contains("moved to another ticket"));
}

#[test]
fn switching_mode_moves_every_task_cleanly() {
    let mut world = two_of_alice(Mode::Individual);
    world.spec.mode = Mode::Batch;
    world.converge();
    let members = world.membership();
    assert_eq!(members.len(), 2);
    assert!(members.values().all(|keys| keys.len() == 1));
    assert_eq!(members["a1"], members["a2"]);
}

#[test]
fn duplicates_are_retired_keeping_the_oldest() {
    let mut world = World::new(
        spec(Mode::Individual),
        vec![task("a", None, TaskState::Open)],
    );
    world.converge();
    let mut copy = world.tickets[0].clone();
    copy.key = "SEC-99".into();
    world.tickets.push(copy);
    let steps = world.converge();
    assert!(
        matches!(
            &steps[..],
            [
                Step::Transition(TransitionStep { key, reason: TransitionReason::RetireDuplicate { original }, .. }),
                Step::Comment { .. },
                Step::Release { reason: ReleaseReason::DuplicateOf(kept), .. },
            ] if key == "SEC-99" && original == "SEC-11" && kept == "SEC-11"
        ),
        "{steps:#?}"
    );
}

#[test]
fn tickets_of_other_syncs_are_never_touched() {
    let mut world = World::new(
        spec(Mode::Individual),
        vec![task("a", None, TaskState::Open)],
    );
    world.converge();
    let mut foreign = world.tickets[0].clone();
    foreign.key = "SEC-500".into();
    foreign.labels = vec!["jas.payments.other".into(), "jas-task.z".into()];
    foreign.summary = "drifted".into();
    world.tickets.push(foreign);
    let plan = world.plan();
    assert!(plan.steps.is_empty() && plan.task_writes.is_empty());
}

#[test]
fn drift_made_by_hand_is_put_back_but_human_labels_stay() {
    let mut world = World::new(
        spec(Mode::Individual),
        vec![task("a", Some("alice@example.com"), TaskState::Open)],
    );
    world.converge();
    let key = world.key_of("a");
    {
        let t = world.ticket(&key);
        t.summary = "edited".into();
        t.description_digest = TextDigest::of("edited");
        t.priority = Some("Lowest".into());
        t.assignee = Some("acc-bob".into());
        t.due_date = None;
        t.labels.retain(|l| l != "compliance");
        t.labels.push("triaged".into());
    }
    let steps = world.converge();
    let [
        Step::Update {
            changes,
            property: None,
            ..
        },
    ] = &steps[..]
    else {
        panic!("{steps:#?}")
    };
    assert_eq!(
        changes.field_names(),
        vec![
            "summary",
            "description",
            "labels",
            "priority",
            "duedate",
            "assignee"
        ]
    );
    assert!(world.ticket(&key).labels.contains(&"triaged".to_owned()));
}

#[test]
fn changing_the_project_closes_the_old_tickets_and_makes_new_ones() {
    let mut world = World::new(
        spec(Mode::Individual),
        vec![task("a", None, TaskState::Open)],
    );
    world.converge();
    let old = world.key_of("a");
    world.spec.jira.project = "OPS".into();
    world.converge();
    assert_ne!(world.key_of("a"), old);
    assert_eq!(world.ticket(&old).category, StatusCategory::Done);
    assert_eq!(
        world.ticket(&old).labels,
        ["compliance", "jas-released@sim.payments.vuln-sync"]
    );
}

#[test]
fn a_label_dropped_from_the_spec_is_removed() {
    let mut world = World::new(
        spec(Mode::Individual),
        vec![task("a", None, TaskState::Open)],
    );
    world.converge();
    world.spec.jira.labels = vec![JiraLabel("soc2".into())];
    world.converge();
    let labels = &world.tickets[0].labels;
    assert!(labels.contains(&"soc2".to_owned()) && !labels.contains(&"compliance".to_owned()));
}

#[test]
fn a_pending_create_waits_for_the_search_index_then_creates() {
    let world = World::new(
        spec(Mode::Individual),
        vec![task("a", None, TaskState::Open)],
    );
    let mut input = world.input();
    input.pending_creates.note(
        "jas-task.a".into(),
        now() - jiff::SignedDuration::from_secs(10),
    );
    let waiting = plan(&input);
    assert!(waiting.steps.is_empty());
    assert_eq!(
        waiting.wait_until,
        Some(now() + jiff::SignedDuration::from_secs(20))
    );
    input.pending_creates.note(
        "jas-task.a".into(),
        now() - jiff::SignedDuration::from_secs(31),
    );
    let creating = plan(&input);
    assert!(matches!(&creating.steps[..], [Step::Create(_)]));
    assert_eq!(creating.wait_until, None);
}

#[test]
fn a_settle_window_past_the_end_of_time_waits_instead_of_panicking() {
    let world = World::new(
        spec(Mode::Individual),
        vec![task("a", None, TaskState::Open)],
    );
    let mut input = world.input();
    input.search_settle = jiff::SignedDuration::MAX;
    input.pending_creates.note("jas-task.a".into(), now());
    let waiting = plan(&input);
    assert!(waiting.steps.is_empty());
    assert_eq!(waiting.wait_until, Some(jiff::Timestamp::MAX));
}

#[test]
fn suspend_counts_but_writes_nothing() {
    // The completed task needs no ticket, so only one is counted.
    let mut s = spec(Mode::Individual);
    s.suspend = true;
    let world = World::new(
        s,
        vec![
            task("a", None, TaskState::Open),
            task("b", None, TaskState::Completed),
        ],
    );
    let plan = world.plan();
    assert!(plan.steps.is_empty() && plan.task_writes.is_empty() && plan.wait_until.is_none());
    assert_eq!(
        plan.counts,
        Counts {
            tasks_in_scope: 2,
            tasks_completed: 1,
            tickets: 1,
            tickets_done: 0
        }
    );
}

#[test]
fn an_unknown_assignee_leaves_the_ticket_unassigned_with_a_warning() {
    let world = World::new(
        spec(Mode::Individual),
        vec![task("a", Some("carol@example.com"), TaskState::Open)],
    );
    let plan = world.plan();
    assert_eq!(
        plan.warnings,
        vec![Warning::UnknownAssignee {
            email: "carol@example.com".into(),
            tasks: vec!["a".into()]
        }]
    );
    assert_eq!(
        creates(&plan.steps)[0].fields.assignee,
        Some(Assignee::Unassigned)
    );
}

#[test]
fn statuses_of_tasks_that_left_every_sync_are_cleared() {
    let mut world = World::new(spec(Mode::Individual), vec![]);
    world.others.insert(
        "gone".into(),
        OtherTask {
            owner: None,
            recorded_sync: Some(SYNC.into()),
        },
    );
    world.others.insert(
        "taken".into(),
        OtherTask {
            owner: Some("other".into()),
            recorded_sync: Some(SYNC.into()),
        },
    );
    let plan = world.plan();
    assert!(plan.steps.is_empty());
    assert_eq!(
        plan.task_writes,
        vec![TaskWrite::Status {
            task: "gone".into(),
            status: None
        }]
    );
    world.apply(&plan);
    assert!(world.plan().task_writes.is_empty());
}

#[test]
fn deletion_follows_the_policy() {
    let mut world = World::new(
        spec(Mode::Individual),
        vec![
            task("a", None, TaskState::Open),
            task("b", None, TaskState::Open),
        ],
    );
    world.converge();
    world.task_mut("b").spec.state = TaskState::Completed;
    world.converge();
    let recorded = vec!["a".to_owned(), "b".to_owned()];
    for (policy, expect) in [
        (DeletionPolicy::Retain, 0),
        (DeletionPolicy::Delete, 2),
        (DeletionPolicy::Close, 1),
    ] {
        world.spec.deletion_policy = policy;
        let input = world.input();
        let deletion = plan_deletion(&input.sync, &input.tickets, &recorded);
        assert_eq!(deletion.steps.len(), expect, "{policy:?}: {deletion:#?}");
        assert_eq!(
            deletion.task_writes.len(),
            2,
            "statuses cleared under {policy:?}"
        );
    }
}

fn arb_task() -> impl Strategy<Value = TaskView> {
    (
        0usize..8,
        prop::option::of(prop::sample::select(vec![
            "alice@example.com",
            "bob@example.com",
            "carol@example.com",
        ])),
        any::<bool>(),
    )
        .prop_map(|(n, assignee, done)| {
            task(
                &format!("t{n}"),
                assignee,
                if done {
                    TaskState::Completed
                } else {
                    TaskState::Open
                },
            )
        })
}

#[derive(Debug, Clone)]
enum Event {
    Toggle(usize),
    Reassign(usize, Option<&'static str>),
    Remove(usize),
    Add(Box<TaskView>),
    JiraDone(usize),
    JiraReopen(usize),
    JiraAssign(usize),
    SwitchMode,
}

fn arb_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (0usize..8).prop_map(Event::Toggle),
        (
            0usize..8,
            prop::option::of(prop::sample::select(vec![
                "alice@example.com",
                "bob@example.com"
            ]))
        )
            .prop_map(|(i, a)| Event::Reassign(i, a)),
        (0usize..8).prop_map(Event::Remove),
        arb_task().prop_map(|t| Event::Add(Box::new(t))),
        (0usize..8).prop_map(Event::JiraDone),
        (0usize..8).prop_map(Event::JiraReopen),
        (0usize..8).prop_map(Event::JiraAssign),
        Just(Event::SwitchMode),
    ]
}

/// What a person did in Jira, which the next plan must not undo.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PersonDid {
    Nothing,
    Closed(String),
    Reopened(String),
    Took(String),
}

/// Whether `steps` undo what the person did: re-open a ticket a person closed (only
/// `jiraCompletion: Reopen` may), close one a person re-opened, or un-assign one a person took.
fn undoes(steps: &[Step], did: &PersonDid, completion: JiraCompletion) -> bool {
    steps.iter().any(|step| match (did, step) {
        (PersonDid::Closed(key), Step::Transition(t)) => {
            &t.key == key
                && matches!(t.reason, TransitionReason::Reopen(_))
                && completion != JiraCompletion::Reopen
        }
        (PersonDid::Reopened(key), Step::Transition(t)) => {
            &t.key == key && matches!(t.reason, TransitionReason::Close(_))
        }
        (
            PersonDid::Took(key),
            Step::Update {
                key: k, changes, ..
            },
        ) => k == key && changes.assignee == Some(None),
        _ => false,
    })
}

fn apply_event(world: &mut World, event: &Event) -> PersonDid {
    let n = world.tasks.len();
    let ours: Vec<String> = world
        .tickets
        .iter()
        .filter(|t| t.key.starts_with("SEC-"))
        .map(|t| t.key.clone())
        .collect();
    match event {
        Event::Toggle(i) if n > 0 => {
            let t = &mut world.tasks[i % n];
            t.spec.state = match t.spec.state {
                TaskState::Open => TaskState::Completed,
                TaskState::Completed => TaskState::Open,
            };
        }
        Event::Reassign(i, a) if n > 0 => world.tasks[i % n].spec.assignee = a.map(str::to_owned),
        Event::Remove(i) if n > 0 => {
            world.tasks.remove(i % n);
        }
        Event::Add(t) if !world.tasks.iter().any(|x| x.name == t.name) => {
            world.tasks.push((**t).clone());
        }
        Event::JiraDone(i) | Event::JiraReopen(i) if !ours.is_empty() => {
            let key = ours[i % ours.len()].clone();
            let done = matches!(event, Event::JiraDone(_));
            world.jira_transition(&key, done);
            return if done {
                PersonDid::Closed(key)
            } else {
                PersonDid::Reopened(key)
            };
        }
        Event::JiraAssign(i) if !ours.is_empty() => {
            let key = ours[i % ours.len()].clone();
            world.ticket(&key).assignee = Some(PERSON.to_owned());
            return PersonDid::Took(key);
        }
        Event::SwitchMode => {
            world.spec.mode = match world.spec.mode {
                Mode::Individual => Mode::Batch,
                Mode::Batch => Mode::Individual,
            };
        }
        _ => {}
    }
    PersonDid::Nothing
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Over any history of task changes and Jira-side transitions: one plan brings everything in
    /// step (planning again yields nothing), every open task is in exactly one live ticket (a
    /// completed task in at most one), each task's status names its ticket, no action touches a
    /// ticket of another sync, and none undoes what a person did in Jira.
    #[test]
    fn plans_converge_in_one_step_with_each_task_in_exactly_one_ticket(
        tasks in prop::collection::vec(arb_task(), 0..8),
        batch in any::<bool>(),
        completion in prop::sample::select(vec![JiraCompletion::Reflect, JiraCompletion::CompleteTasks, JiraCompletion::Reopen]),
        when in prop::sample::select(vec![ClosureWhen::AllTasksCompleted, ClosureWhen::Never]),
        reopen in any::<bool>(),
        events in prop::collection::vec(arb_event(), 0..12),
    ) {
        let mut s = spec(if batch { Mode::Batch } else { Mode::Individual });
        s.jira_completion = completion;
        s.closure.when = when;
        s.closure.reopen = reopen;
        let unique = unique_names(tasks);
        let mut world = World::new(s, unique);
        world.tickets.push(ObservedTicket {
            key: "OPS-1".into(),
            url: "https://jira.example/browse/OPS-1".into(),
            project: "OPS".into(),
            issue_type: "Task".into(),
            summary: "someone else's".into(),
            description_digest: TextDigest::default(),
            labels: vec!["jas.payments.other".into(), "jas-task.t1".into()],
            status: "To Do".into(),
            category: StatusCategory::New,
            priority: None,
            due_date: None,
            assignee: None,
            epic: None,
            property: None,
        });
        let foreign = world.tickets[0].clone();
        world.converge();
        for event in &events {
            let did = apply_event(&mut world, event);
            let steps = world.converge();
            for step in &steps {
                prop_assert_ne!(step.key(), Some("OPS-1"));
            }
            prop_assert!(!undoes(&steps, &did, completion), "{:?} undone by {:#?}", did, steps);
        }
        prop_assert_eq!(world.tickets.iter().find(|t| t.key == "OPS-1"), Some(&foreign));
        let members = world.membership();
        for task in &world.tasks {
            let keys = members.get(&task.name).cloned().unwrap_or_default();
            let recorded = task.recorded.as_ref().and_then(|r| r.key.clone());
            match (task.spec.state, keys.as_slice()) {
                (_, [key]) => prop_assert_eq!(recorded.as_ref(), Some(key)),
                // A completed task that never had a ticket needs none.
                (TaskState::Completed, []) => prop_assert_eq!(recorded, None),
                _ => prop_assert!(false, "task {} ({:?}) is in tickets {:?}", task.name, task.spec.state, keys),
            }
        }
        prop_assert!(members.keys().all(|m| world.tasks.iter().any(|t| &t.name == m)), "tickets list tasks that are gone: {:?}", members);
    }
}

#[test]
fn a_ticket_from_before_installation_identities_is_adopted_not_made_again() {
    let mut world = World::new(
        spec(Mode::Individual),
        vec![task("a", None, TaskState::Open)],
    );
    world.converge();
    let key = world.key_of("a");
    let labels = SyncLabels::of(&world.installation, NS, SYNC);
    let ticket = world.ticket(&key);
    ticket.labels.retain(|l| *l != labels.current);
    ticket.labels.push(labels.legacy.clone());
    let steps = world.converge();
    assert!(creates(&steps).is_empty(), "{steps:#?}");
    assert_eq!(world.key_of("a"), key);
    assert_eq!(
        world.ticket(&key).labels,
        ["compliance", "jas-task.a", "jas@sim.payments.vuln-sync"],
        "relabelled: the legacy sync label replaced by the installation's"
    );
}

#[test]
fn a_ticket_of_another_installation_is_never_touched() {
    let mut world = World::new(
        spec(Mode::Individual),
        vec![task("a", None, TaskState::Open)],
    );
    world.converge();
    let theirs = world.key_of("a");
    let other = Installation::parse("other").expect("valid");
    let ticket = world.ticket(&theirs);
    ticket.labels = vec![
        "jas-task.a".to_owned(),
        SyncLabels::of(&other, NS, SYNC).current,
    ];
    let before = world.ticket(&theirs).clone();
    let steps = world.converge();
    assert_eq!(creates(&steps).len(), 1, "ours is made: {steps:#?}");
    assert!(
        steps.iter().all(|s| s.key() != Some(theirs.as_str())),
        "no step on the other installation's ticket: {steps:#?}"
    );
    assert_eq!(*world.ticket(&theirs), before);
}

#[test]
fn a_description_cut_to_fit_lists_the_open_tasks_first() {
    let long = "Check every replica and record what was found. ".repeat(40);
    let mut tasks: Vec<TaskView> = (0..100)
        .map(|i| {
            task(
                &format!("a-{i:03}"),
                Some("alice@example.com"),
                TaskState::Completed,
            )
        })
        .chain((0..5).map(|i| {
            task(
                &format!("z-{i}"),
                Some("alice@example.com"),
                TaskState::Open,
            )
        }))
        .collect();
    for t in &mut tasks {
        t.spec.instructions = Some(long.clone());
    }
    let world = World::new(spec(Mode::Batch), tasks);
    let plan = world.plan();
    let [created] = creates(&plan.steps)[..] else {
        panic!("one ticket: {plan:#?}");
    };
    let rendered = created.fields.description.render(Flavor::Cloud);
    assert!(rendered.truncated);
    for i in 0..5 {
        assert!(
            rendered.plain_text.contains(&format!("payments/z-{i}")),
            "z-{i}"
        );
    }
    assert!(!rendered.plain_text.contains("payments/a-099"));
}

#[test]
fn a_two_thousand_task_group_converges_within_the_property_limit_and_closes() {
    let name = |i: usize| format!("finding-of-a-rather-verbose-scanner-{i:04}");
    let tasks = (0..2_000)
        .map(|i| task(&name(i), Some("alice@example.com"), TaskState::Open))
        .collect();
    let mut world = World::new(spec(Mode::Batch), tasks);
    let first = world.converge();
    let [created] = creates(&first)[..] else {
        panic!("one ticket");
    };
    assert!(created.property.unlisted.is_some(), "cut to fit");
    for i in 0..1_000 {
        world.task_mut(&name(i)).spec.state = TaskState::Completed;
    }
    assert!(!world.converge().iter().any(is_close));
    for i in 1_000..2_000 {
        world.task_mut(&name(i)).spec.state = TaskState::Completed;
    }
    assert!(world.converge().iter().any(is_close));
    let key = world.key_of(&name(0));
    let comment = &world.comments[&key][0];
    assert!(comment.chars().count() <= COMMENT_LIMIT && comment.ends_with(" more."));
    let property = world.ticket(&key).property.clone().expect("property");
    assert!(property::size(&property) <= PROPERTY_BUDGET && property.closed);
}

fn only_update(steps: &[Step]) -> &IssueUpdate {
    match steps {
        [Step::Update { changes, .. }] => changes,
        other => panic!("expected one update: {other:#?}"),
    }
}

#[test]
fn dropping_the_epic_takes_tickets_out_of_the_epic_the_operator_set_only() {
    let mut world = World::new(
        spec(Mode::Individual),
        vec![
            task("a", None, TaskState::Open),
            task("b", None, TaskState::Open),
        ],
    );
    world.converge();
    // A person moves a's ticket into another epic; then the spec drops its epic (SEC-1).
    let (key_a, b) = (world.key_of("a"), world.key_of("b"));
    world.ticket(&key_a).epic = Some("SEC-7".into());
    world.spec.jira.epic = None;
    let steps = world.converge();
    let by_key = |key: &str| {
        steps
            .iter()
            .filter(|s| s.key() == Some(key))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        only_update(&by_key(&b)).epic,
        Some(None),
        "the epic the operator set is taken off"
    );
    assert_eq!(
        only_update(&by_key(&key_a)).epic,
        None,
        "an epic other than the one the operator recorded is a person's: it stays"
    );
    assert_eq!(world.ticket(&b).epic, None);
    assert_eq!(world.ticket(&key_a).epic.as_deref(), Some("SEC-7"));
}

#[test]
fn a_new_issue_type_is_applied_to_existing_tickets() {
    let mut world = World::new(
        spec(Mode::Individual),
        vec![task("a", None, TaskState::Open)],
    );
    world.converge();
    world.spec.jira.issue_type = "Bug".into();
    let steps = world.converge();
    assert_eq!(only_update(&steps).issue_type.as_deref(), Some("Bug"));
    let key = world.key_of("a");
    assert_eq!(world.ticket(&key).issue_type, "Bug");
}

#[test]
fn every_move_carries_the_closure_fields_and_edits_never_hold_back_a_move() {
    let mut s = spec(Mode::Individual);
    s.closure
        .fields
        .insert("customfield_10300".into(), json!("closed by the operator"));
    let mut world = World::new(s, vec![task("a", None, TaskState::Open)]);
    world.converge();
    world.task_mut("a").spec.state = TaskState::Completed;
    let steps = world.converge();
    let close = steps.iter().find(|s| is_close(s)).expect("a close");
    let Step::Transition(close) = close else {
        unreachable!("is_close matched a transition")
    };
    assert_eq!(close.fields["customfield_10300"], "closed by the operator");
    assert!(
        steps
            .iter()
            .all(|s| matches!(s, Step::Transition(_)) || !s.stops_on_failure())
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Over any history, planning only what changed (carrying the settled units from pass to pass)
    /// gives the full plan at every pass: the same steps in the same order, task writes, counters
    /// and wait.
    #[test]
    fn planning_only_what_changed_gives_the_full_plan_at_every_pass(
        tasks in prop::collection::vec(arb_task(), 0..8),
        batch in any::<bool>(),
        completion in prop::sample::select(vec![JiraCompletion::Reflect, JiraCompletion::CompleteTasks, JiraCompletion::Reopen]),
        reopen in any::<bool>(),
        events in prop::collection::vec(arb_event(), 0..12),
    ) {
        let mut s = spec(if batch { Mode::Batch } else { Mode::Individual });
        s.jira_completion = completion;
        s.closure.reopen = reopen;
        let unique = unique_names(tasks);
        let mut world = World::new(s, unique);
        let mut settled = Settled::default();
        for event in std::iter::once(None).chain(events.iter().map(Some)) {
            if let Some(event) = event {
                apply_event(&mut world, event);
            }
            for _ in 0..4 {
                let input = world.input();
                let full = plan(&input);
                let changed = plan_changes(&input, &settled);
                prop_assert_eq!(&changed.plan.steps, &full.steps);
                prop_assert_eq!(&changed.plan.task_writes, &full.task_writes);
                prop_assert_eq!(changed.plan.counts, full.counts);
                prop_assert_eq!(changed.plan.wait_until, full.wait_until);
                settled = changed.settled;
                drop(input);
                let quiet = full.steps.is_empty() && full.task_writes.is_empty();
                world.apply(&full);
                if quiet {
                    break;
                }
            }
        }
    }
}

/// The tasks, without a second task of the same name.
fn unique_names(tasks: Vec<TaskView>) -> Vec<TaskView> {
    let mut unique: Vec<TaskView> = Vec::new();
    for t in tasks {
        if !unique.iter().any(|u| u.name == t.name) {
            unique.push(t);
        }
    }
    unique
}

/// A converged world of `n` open tasks in `mode`, with every unit settled.
fn settled_world(mode: Mode, n: usize) -> (World, Settled) {
    let assignees = [Some("alice@example.com"), Some("bob@example.com"), None];
    let tasks = (0..n)
        .map(|i| task(&format!("t{i:03}"), assignees[i % 3], TaskState::Open))
        .collect();
    let mut world = World::new(spec(mode), tasks);
    world.converge();
    let changed = plan_changes(&world.input(), &Settled::default());
    assert!(changed.plan.steps.is_empty() && changed.plan.task_writes.is_empty());
    (world, changed.settled)
}

#[test]
fn a_converged_sync_plans_only_the_ticket_whose_task_changed() {
    for (mode, units) in [(Mode::Individual, 100), (Mode::Batch, 3)] {
        let (mut world, settled) = settled_world(mode, 100);
        assert_eq!(settled.len(), units, "{mode:?}: every unit settled");
        let unchanged = plan_changes(&world.input(), &settled);
        assert_eq!(
            (unchanged.planned, unchanged.plan.steps.len()),
            (0, 0),
            "{mode:?}"
        );
        assert_eq!(unchanged.plan.counts, world.plan().counts, "{mode:?}");
        world.task_mut("t042").spec.state = TaskState::Completed;
        let changed = plan_changes(&world.input(), &settled);
        assert_eq!(
            changed.planned, 1,
            "{mode:?}: only t042's ticket is planned"
        );
        assert_eq!(changed.plan, world.plan(), "{mode:?}");
        assert!(changed.plan.steps.iter().any(is_close) || mode == Mode::Batch);
    }
}

#[test]
fn a_change_to_the_spec_or_pending_creates_plans_every_ticket() {
    let (mut world, settled) = settled_world(Mode::Individual, 20);
    world.spec.jira.labels.push(JiraLabel("audit".into()));
    let respec = plan_changes(&world.input(), &settled);
    assert_eq!(respec.planned, 20);
    assert_eq!(respec.plan, world.plan());

    let (world, settled) = settled_world(Mode::Individual, 20);
    let mut input = world.input();
    input
        .pending_creates
        .note(TicketIdentity::Task("t999".into()).label(), now());
    let pending = plan_changes(&input, &settled);
    assert_eq!(pending.planned, 20);
}

#[test]
fn a_ticket_changed_in_jira_is_planned_again() {
    let (mut world, settled) = settled_world(Mode::Individual, 10);
    let key = world.key_of("t003");
    world.jira_transition(&key, true);
    let changed = plan_changes(&world.input(), &settled);
    assert_eq!(changed.planned, 1);
    assert_eq!(changed.plan, world.plan());
    assert!(
        changed
            .plan
            .task_writes
            .iter()
            .any(|w| matches!(w, TaskWrite::Status { task, .. } if task == "t003")),
        "the task shows the ticket's new status: {:?}",
        changed.plan.task_writes
    );
}
