//! Identifier newtypes.
//!
//! Ids are carried as `i64` so that any integer a client sends can be represented; adapters
//! whose storage uses narrower keys treat values outside their range as "does not exist".

use std::fmt;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<i64> for $name {
            fn from(value: i64) -> Self {
                $name(value)
            }
        }

        impl From<i32> for $name {
            fn from(value: i32) -> Self {
                $name(i64::from(value))
            }
        }
    };
}

id_type!(
    /// Identifies a user.
    UserId
);
id_type!(
    /// Identifies a content item.
    ContentId
);
id_type!(
    /// Identifies a recorded interaction.
    InteractionId
);
id_type!(
    /// Identifies a stored recommendation.
    RecommendationId
);
id_type!(
    /// Identifies a generation job.
    JobId
);
id_type!(
    /// Identifies an online experiment.
    ExperimentId
);
