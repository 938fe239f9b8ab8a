//! Request and response shapes of the HTTP API (contract §1.7), with their OpenAPI schemas.
//!
//! Request DTOs derive `JsonSchema` (the documentation) and, from the same declarations,
//! [`Input`](crate::input::Input) (lenient coercion, every problem reported); the few that do
//! not fit the derive say why next to their hand-written impl. Response DTOs derive `Serialize`.
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
