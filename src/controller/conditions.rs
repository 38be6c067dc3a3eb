//! Status conditions by Kubernetes API conventions: one per type, `lastTransitionTime` kept while
//! the status does not change, `observedGeneration` on each.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::api::Condition;

/// A condition to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cond {
    /// Type, e.g. `Ready`.
    pub type_: &'static str,
    /// `True`, `False` or `Unknown`.
    pub status: bool,
    /// PascalCase reason.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
}

impl Cond {
    /// A condition that holds.
    pub fn yes(type_: &'static str, reason: &str, message: impl Into<String>) -> Cond {
        Cond {
            type_,
            status: true,
            reason: reason.to_owned(),
            message: message.into(),
        }
    }

    /// A condition that does not hold.
    pub fn no(type_: &'static str, reason: &str, message: impl Into<String>) -> Cond {
        Cond {
            type_,
            status: false,
            reason: reason.to_owned(),
            message: message.into(),
        }
    }
}

/// The conditions after setting `updates` on `current`: other types are kept, and a condition whose
/// status is unchanged keeps its `lastTransitionTime`.
pub fn merge(
    current: &[Condition],
    updates: &[Cond],
    generation: Option<i64>,
    now: jiff::Timestamp,
) -> Vec<Condition> {
    let mut out: Vec<Condition> = current
        .iter()
        .filter(|c| !updates.iter().any(|u| u.type_ == c.type_))
        .cloned()
        .collect();
    for update in updates {
        let status = if update.status { "True" } else { "False" };
        let previous = current.iter().find(|c| c.type_ == update.type_);
        let last_transition_time = match previous {
            Some(p) if p.status == status => p.last_transition_time.clone(),
            _ => Time(now),
        };
        out.push(Condition {
            type_: update.type_.to_owned(),
            status: status.to_owned(),
            reason: update.reason.clone(),
            message: truncate(&update.message, 32_768),
            observed_generation: generation,
            last_transition_time,
        });
    }
    out.sort_by(|a, b| a.type_.cmp(&b.type_));
    out
}

/// `text` cut to at most `limit` bytes, on a character boundary (for API server field limits).
pub fn truncate(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut cut = limit;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text[..cut].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_time_moves_only_when_status_changes() {
        let t0 = jiff::Timestamp::from_second(1_000).expect("valid");
        let t1 = jiff::Timestamp::from_second(2_000).expect("valid");
        let first = merge(&[], &[Cond::yes("Ready", "Synced", "ok")], Some(1), t0);
        let still = [Cond::yes("Ready", "Synced", "still ok")];
        let same = merge(&first, &still, Some(2), t1);
        assert_eq!(same[0].last_transition_time, Time(t0));
        assert_eq!(same[0].message, "still ok");
        assert_eq!(same[0].observed_generation, Some(2));
        let down = [Cond::no("Ready", "JiraUnreachable", "down")];
        let flipped = merge(&same, &down, Some(2), t1);
        assert_eq!(flipped[0].last_transition_time, Time(t1));
        assert_eq!(flipped[0].status, "False");
    }

    #[test]
    fn other_types_are_kept_and_sorted() {
        let t0 = jiff::Timestamp::from_second(1_000).expect("valid");
        let first = merge(&[], &[Cond::yes("Synced", "Synced", "ok")], None, t0);
        let both = merge(&first, &[Cond::no("Conflict", "NoConflict", "")], None, t0);
        let types: Vec<&str> = both.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, vec!["Conflict", "Synced"]);
    }
}
