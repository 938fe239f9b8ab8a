//! Entities, enumerations and the commands/queries that create and find them.

mod api_key;
mod content;
mod experiment;
mod idempotency;
mod interaction;
mod job;
mod recommendation;
mod timestamp;
mod user;
mod webhook;

pub use api_key::*;
pub use content::*;
pub use experiment::*;
pub use idempotency::*;
pub use interaction::*;
pub use job::*;
pub use recommendation::*;
pub use timestamp::TimestampText;
pub use user::*;
pub use webhook::*;

/// A point in time in UTC, stored without zone (microsecond precision).
pub type Timestamp = chrono::NaiveDateTime;

/// An arbitrary JSON object (preferences, metadata, parameters).
pub type JsonObject = serde_json::Map<String, serde_json::Value>;

/// Declares a closed string enumeration with its wire spelling.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in the contract's canonical order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }

            /// Parses the exact (case-sensitive) wire spelling.
            pub fn parse(raw: &str) -> Option<Self> {
                match raw {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;
