//! The issue fields JQL can search and sort on here, and how the emulator hands their values over.

use jiff::Timestamp;

/// One value of an issue's field, as the store hands it to the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JqlValue {
    /// A name, key, id, label, account id...: compared case-insensitively.
    Text(String),
    /// An instant, for `created` and `updated`.
    Time(Timestamp),
}

/// Reads an issue's values for a field, named in lower case: `project`, `labels`, `status`,
/// `statuscategory`, `issuetype`, `key`, `assignee`, `summary`, `created`, `updated`.
///
/// A field with several names returns each of them, and the query matches any: a project its key,
/// name and id; a status its name and id; a status category its key (`new`), name (`To Do`) and id;
/// an issue type its name and id; the key the issue key and id; the assignee account id, email and
/// display name; labels each label. An empty field returns nothing.
pub trait JqlFields {
    /// The field's values; empty when the field has none.
    fn values(&self, field: &str) -> Vec<JqlValue>;
}

/// How a field's values compare, which decides the operators it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldKind {
    /// Names and ids compared for equality: `=`, `!=`, `IN`, `NOT IN`, `IS`, `IS NOT`.
    Named,
    /// The issue key, which also orders (`>`, `<`...) within a project.
    Key,
    /// Instants, compared with every relational operator.
    Time,
    /// Free text, searched with `~` and `!~` only.
    Text,
}

/// A field this emulator understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Project,
    Labels,
    Status,
    StatusCategory,
    IssueType,
    Key,
    Assignee,
    Summary,
    Created,
    Updated,
}

impl Field {
    /// Finds the field a query names, ignoring case and accepting Jira's aliases.
    pub fn from_name(name: &str) -> Option<Field> {
        Some(match name.to_lowercase().as_str() {
            "project" => Field::Project,
            "labels" => Field::Labels,
            "status" => Field::Status,
            "statuscategory" => Field::StatusCategory,
            "issuetype" | "type" => Field::IssueType,
            "key" | "issuekey" | "issue" | "id" => Field::Key,
            "assignee" => Field::Assignee,
            "summary" => Field::Summary,
            "created" | "createddate" => Field::Created,
            "updated" | "updateddate" => Field::Updated,
            _ => return None,
        })
    }

    /// The lower-case name passed to [`JqlFields::values`].
    pub fn name(self) -> &'static str {
        match self {
            Field::Project => "project",
            Field::Labels => "labels",
            Field::Status => "status",
            Field::StatusCategory => "statuscategory",
            Field::IssueType => "issuetype",
            Field::Key => "key",
            Field::Assignee => "assignee",
            Field::Summary => "summary",
            Field::Created => "created",
            Field::Updated => "updated",
        }
    }

    pub fn kind(self) -> FieldKind {
        match self {
            Field::Key => FieldKind::Key,
            Field::Created | Field::Updated => FieldKind::Time,
            Field::Summary => FieldKind::Text,
            _ => FieldKind::Named,
        }
    }

    /// Whether the field holds users, so `currentUser()` fits it.
    pub fn holds_users(self) -> bool {
        self == Field::Assignee
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_ignore_case() {
        assert_eq!(Field::from_name("Project"), Some(Field::Project));
        assert_eq!(
            Field::from_name("statusCategory"),
            Some(Field::StatusCategory)
        );
        assert_eq!(Field::from_name("TYPE"), Some(Field::IssueType));
        assert_eq!(Field::from_name("issueKey"), Some(Field::Key));
        assert_eq!(Field::from_name("updatedDate"), Some(Field::Updated));
        assert_eq!(
            Field::from_name("category"),
            None,
            "category is the project category in Jira"
        );
        assert_eq!(Field::from_name("colour"), None);
    }

    #[test]
    fn every_field_round_trips_through_its_name() {
        for field in [
            Field::Project,
            Field::Labels,
            Field::Status,
            Field::StatusCategory,
            Field::IssueType,
            Field::Key,
            Field::Assignee,
            Field::Summary,
            Field::Created,
            Field::Updated,
        ] {
            assert_eq!(Field::from_name(field.name()), Some(field));
        }
    }
}
