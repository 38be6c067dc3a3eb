//! Publishes Events (`events.k8s.io/v1`), folding a repeat within six minutes into a series on the
//! first Event, as kube's `Recorder` does. kube's keeps a full copy of every Event it published and
//! sweeps that cache on every publish: after a first sync of 10,000 tasks it held about 50 MB, and
//! each publish walked 10,000 entries under one lock. This one keeps what a repeat needs (the
//! Event's name and count) and sweeps once a minute.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event as K8sEvent, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::events::{Event, EventType, Reporter};

/// How long a published Event takes repeats into its series (kube's and client-go's window).
const SERIES_WINDOW: SignedDuration = SignedDuration::from_mins(6);
/// How often Events past the window are forgotten.
const SWEEP_EVERY: SignedDuration = SignedDuration::from_mins(1);

/// What makes two Events the same occurrence (kube's key: the note is not part of it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct EventKey {
    warning: bool,
    reason: String,
    action: String,
    /// Namespace, name and uid of the object the Event is about.
    regarding: (Option<String>, Option<String>, Option<String>),
    /// Namespace and name of the related object.
    related: Option<(Option<String>, Option<String>)>,
}

impl EventKey {
    fn of(event: &Event, regarding: &ObjectReference) -> EventKey {
        EventKey {
            warning: matches!(event.type_, EventType::Warning),
            reason: event.reason.clone(),
            action: event.action.clone(),
            regarding: (
                regarding.namespace.clone(),
                regarding.name.clone(),
                regarding.uid.clone(),
            ),
            related: event
                .secondary
                .as_ref()
                .map(|r| (r.namespace.clone(), r.name.clone())),
        }
    }
}

/// An Event published in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Published {
    name: String,
    count: i32,
    last: Timestamp,
}

/// An Event's occurrence: a new Event, or a repeat counted on one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Occurrence {
    /// A new Event.
    First,
    /// The `count`th occurrence of the Event `name`.
    Repeat { name: String, count: i32 },
}

/// The Events published in the window, by key.
#[derive(Debug, Default)]
struct Window {
    published: HashMap<EventKey, Published>,
    swept: Option<Timestamp>,
}

impl Window {
    /// What to send for `key` at `now`; forgets Events past the window first, once a minute.
    fn send(&mut self, key: &EventKey, now: Timestamp) -> Occurrence {
        if self.swept.is_none_or(|at| at + SWEEP_EVERY <= now) {
            self.published.retain(|_, p| p.last + SERIES_WINDOW > now);
            self.swept = Some(now);
        }
        match self.published.get(key) {
            Some(p) if p.last + SERIES_WINDOW > now => Occurrence::Repeat {
                name: p.name.clone(),
                count: p.count.saturating_add(1),
            },
            _ => Occurrence::First,
        }
    }

    /// Records that the Event `name` was sent for `key` as its `count`th occurrence.
    fn sent(&mut self, key: EventKey, name: String, count: i32, now: Timestamp) {
        self.published.insert(
            key,
            Published {
                name,
                count,
                last: now,
            },
        );
    }

    /// Events remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.published.len()
    }
}

/// Publishes the operator's Events.
pub struct Publisher {
    client: kube::Client,
    reporter: Reporter,
    window: Mutex<Window>,
    /// Makes Event names unique even when two are made in the same nanosecond.
    sequence: AtomicU64,
}

impl Publisher {
    /// A publisher reporting as `reporter`.
    pub fn new(client: kube::Client, reporter: Reporter) -> Publisher {
        Publisher {
            client,
            reporter,
            window: Mutex::default(),
            sequence: AtomicU64::new(0),
        }
    }

    /// Publishes `event` about `regarding`, in its namespace.
    pub async fn publish(
        &self,
        event: &Event,
        regarding: &ObjectReference,
    ) -> Result<(), kube::Error> {
        let key = EventKey::of(event, regarding);
        let now = Timestamp::now();
        let send = self
            .window
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(&key, now);
        let namespace = regarding.namespace.as_deref().unwrap_or("default");
        let api: Api<K8sEvent> = Api::namespaced(self.client.clone(), namespace);
        if let Occurrence::Repeat { name, count } = send {
            let series = serde_json::json!({"series": EventSeries {
                count,
                last_observed_time: MicroTime(now),
            }});
            match api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&series))
                .await
            {
                Ok(_) => {
                    self.record(key, name, count, now);
                    return Ok(());
                }
                // Gone (deleted, or expired): the occurrence starts a new Event.
                Err(kube::Error::Api(status)) if status.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        let created = api
            .create(
                &PostParams::default(),
                &self.new_event(event, regarding, now),
            )
            .await?;
        self.record(key, created.metadata.name.unwrap_or_default(), 1, now);
        Ok(())
    }

    fn record(&self, key: EventKey, name: String, count: i32, now: Timestamp) {
        self.window
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .sent(key, name, count, now);
    }

    fn new_event(&self, event: &Event, regarding: &ObjectReference, now: Timestamp) -> K8sEvent {
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let controller = &self.reporter.controller;
        K8sEvent {
            metadata: ObjectMeta {
                namespace: regarding.namespace.clone(),
                name: Some(format!(
                    "{}.{:x}.{sequence:x}",
                    regarding.name.as_deref().unwrap_or(controller),
                    now.as_nanosecond()
                )),
                ..ObjectMeta::default()
            },
            action: Some(event.action.clone()),
            reason: Some(event.reason.clone()),
            note: event.note.clone(),
            event_time: Some(MicroTime(now)),
            regarding: Some(regarding.clone()),
            related: event.secondary.clone(),
            reporting_controller: Some(controller.clone()),
            reporting_instance: Some(
                self.reporter
                    .instance
                    .clone()
                    .unwrap_or_else(|| controller.clone()),
            ),
            type_: Some(
                match event.type_ {
                    EventType::Normal => "Normal",
                    EventType::Warning => "Warning",
                }
                .to_owned(),
            ),
            ..K8sEvent::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(reason: &str, task: &str) -> EventKey {
        EventKey::of(
            &Event {
                type_: EventType::Normal,
                reason: reason.into(),
                note: Some("a note".into()),
                action: "Create".into(),
                secondary: Some(ObjectReference {
                    namespace: Some("ns".into()),
                    name: Some(task.into()),
                    ..ObjectReference::default()
                }),
            },
            &ObjectReference {
                namespace: Some("ns".into()),
                name: Some("s".into()),
                uid: Some("u".into()),
                ..ObjectReference::default()
            },
        )
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + seconds).unwrap()
    }

    #[test]
    fn a_repeat_in_the_window_counts_on_the_first_event() {
        let mut window = Window::default();
        let k = key("TicketCreated", "t1");
        assert_eq!(window.send(&k, at(0)), Occurrence::First);
        window.sent(k.clone(), "s.1".into(), 1, at(0));
        assert_eq!(
            window.send(&k, at(10)),
            Occurrence::Repeat {
                name: "s.1".into(),
                count: 2
            }
        );
        window.sent(k.clone(), "s.1".into(), 2, at(10));
        assert_eq!(
            window.send(&k, at(300)),
            Occurrence::Repeat {
                name: "s.1".into(),
                count: 3
            },
            "the window runs from the last occurrence"
        );
    }

    #[test]
    fn another_task_or_reason_is_another_event() {
        let mut window = Window::default();
        window.sent(key("TicketCreated", "t1"), "s.1".into(), 1, at(0));
        assert_eq!(
            window.send(&key("TicketCreated", "t2"), at(1)),
            Occurrence::First
        );
        assert_eq!(
            window.send(&key("TicketClosed", "t1"), at(1)),
            Occurrence::First
        );
    }

    #[test]
    fn past_the_window_an_occurrence_is_a_new_event_and_old_ones_are_forgotten() {
        let mut window = Window::default();
        let k = key("TicketCreated", "t1");
        window.sent(k.clone(), "s.1".into(), 1, at(0));
        window.sent(key("TicketCreated", "t2"), "s.2".into(), 1, at(200));
        assert_eq!(window.send(&k, at(360)), Occurrence::First);
        assert_eq!(
            window.len(),
            1,
            "t1's Event was forgotten, t2's is in its window"
        );
    }

    #[test]
    fn the_sweep_runs_at_most_once_a_minute() {
        let mut window = Window::default();
        window.send(&key("A", "t0"), at(0));
        window.sent(key("A", "t1"), "s.1".into(), 1, at(-400));
        window.send(&key("A", "t0"), at(30));
        assert_eq!(window.len(), 1, "no sweep 30 s after the last one");
        window.send(&key("A", "t0"), at(60));
        assert_eq!(window.len(), 0, "swept a minute after the last one");
    }

    #[test]
    fn counts_saturate() {
        let mut window = Window::default();
        let k = key("A", "t1");
        window.sent(k.clone(), "s.1".into(), i32::MAX, at(0));
        assert_eq!(
            window.send(&k, at(1)),
            Occurrence::Repeat {
                name: "s.1".into(),
                count: i32::MAX
            }
        );
    }
}
