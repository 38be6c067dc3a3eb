//! Jira admin webhooks: the registry behind `/rest/webhooks/1.0/webhook`, the event payloads,
//! their HMAC signature, and delivery with Jira's retries.

mod delivery;
mod payload;
mod registry;
mod signature;

pub use delivery::{Attempt, DeliveryReport, RetryPolicy, WebhookDeliverer, new_identifier};
pub use payload::{ChangeItem, Changelog, IssueEvent, IssueEventKind};
pub use registry::{DeliveryTarget, Webhook, WebhookError, WebhookRegistration, WebhookRegistry};
pub use signature::sign;
