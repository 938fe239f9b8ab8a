//! Request and response shapes of the HTTP API (contract §1.7), with their OpenAPI schemas.
//!
//! Request DTOs implement [`Input`](crate::input::Input) (lenient coercion, every problem
//! reported) and derive `JsonSchema` for the documentation; response DTOs derive `Serialize`.
//! They convert to and from domain types; they never reach the database.

pub mod admin;
pub mod common;
pub mod content;
pub mod experiments;
pub mod interactions;
pub mod jobs;
pub mod recommendations;
pub mod system;
pub mod users;

pub use common::*;
