//! The size of a suite's run: quick by default, larger when the environment says so.

use std::str::FromStr;

/// The value of environment variable `name`, or `default` when it is unset or not a `T`.
pub fn setting<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
