//! Planner tests against a simulated Jira: scenarios, and properties over random histories.

use proptest::prelude::*;

use super::simulation::{Change, SYNC, World, now, scenarios, spec, task};
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
        vec!["compliance", "jas-task.a", "jas.payments.vuln-sync"]
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
                })
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
    assert!(
        !world
            .ticket(&key)
            .labels
            .iter()
            .any(|l| is_operator_label(l))
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
    assert!(
        !world
            .ticket(&old)
            .labels
            .iter()
            .any(|l| is_operator_label(l))
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
        Just(Event::SwitchMode),
    ]
}

fn apply_event(world: &mut World, event: &Event) {
    let n = world.tasks.len();
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
        Event::JiraDone(i) | Event::JiraReopen(i) => {
            let ours: Vec<String> = world
                .tickets
                .iter()
                .filter(|t| t.key.starts_with("SEC-"))
                .map(|t| t.key.clone())
                .collect();
            if !ours.is_empty() {
                world.jira_transition(&ours[i % ours.len()], matches!(event, Event::JiraDone(_)));
            }
        }
        Event::SwitchMode => {
            world.spec.mode = match world.spec.mode {
                Mode::Individual => Mode::Batch,
                Mode::Batch => Mode::Individual,
            };
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Over any history of task changes and Jira-side transitions: one plan brings everything in
    /// step (planning again yields nothing), every open task is in exactly one live ticket (a
    /// completed task in at most one), each task's status names its ticket, and no action touches a ticket of another sync.
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
        let mut unique = Vec::new();
        for t in tasks {
            if !unique.iter().any(|u: &TaskView| u.name == t.name) {
                unique.push(t);
            }
        }
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
            apply_event(&mut world, event);
            let steps = world.converge();
            for step in &steps {
                prop_assert_ne!(step.key(), Some("OPS-1"));
            }
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
