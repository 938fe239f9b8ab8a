//! # genonaut-domain
//!
//! The domain of Genonaut, a recommender-system and content-generation service: users,
//! content items, interactions, recommendations and generation jobs.
//!
//! This crate is **pure**: it performs no I/O and depends on no database, web framework or
//! async runtime; it reads neither the system clock nor OS randomness, but asks its
//! [`ports::Clock`] and [`ports::Entropy`] (the binary plugs in `SystemClock` and `OsEntropy`,
//! built with the `os` feature). It holds
//!
//! * [`model`] — entities, enumerations and the commands/queries that create and find them;
//! * [`values`] — value objects that validate themselves ([`values::Username`],
//!   [`values::Email`], [`values::Tags`], …);
//! * [`ports`] — the traits adapters implement (one repository per aggregate, a clock, a
//!   random source);
//! * [`services`] — the use cases with the business rules and the exact error messages of the
//!   Genonaut HTTP API;
//! * [`recommender`] — the recommendation algorithms, their derived state and (feature `eval`)
//!   their offline evaluation;
//! * [`synthetic`] — deterministic data sets with planted structure (demo seed, offline
//!   evaluation);
//! * [`DomainError`] — the single error type every port and service speaks.
//!
//! Another service can embed this crate and plug in its own adapters. With the `test-util`
//! feature, [`testing`] provides in-memory adapters of every port:
//!
//! ```
//! use std::sync::Arc;
//! use genonaut_domain::model::NewUser;
//! use genonaut_domain::services::Services;
//! use genonaut_domain::testing::{FixedClock, InMemoryStore};
//! use genonaut_domain::values::{Email, Username};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = InMemoryStore::new();
//! let services = Services::new(store.repositories(), Arc::new(FixedClock::default()));
//! let alice = services
//!     .users
//!     .create(NewUser {
//!         username: Username::parse("alice").unwrap(),
//!         email: Email::parse("alice@example.com").unwrap(),
//!         preferences: Default::default(),
//!     })
//!     .await
//!     .unwrap();
//! assert!(alice.is_active);
//! // Usernames are unique: the second registration is a conflict.
//! let again = services.users.create(NewUser {
//!     username: Username::parse("alice").unwrap(),
//!     email: Email::parse("other@example.com").unwrap(),
//!     preferences: Default::default(),
//! });
//! assert!(matches!(
//!     again.await.unwrap_err(),
//!     genonaut_domain::DomainError::Conflict(genonaut_domain::Conflict::Username(None))
//! ));
//! # });
//! ```
#![warn(missing_docs)]

mod error;
pub mod ids;
pub mod import;
pub mod model;
#[cfg(feature = "os")]
mod os;
mod page;
pub mod ports;
pub mod recommender;
pub mod services;
pub mod synthetic;
#[cfg(feature = "test-util")]
pub mod testing;
pub mod values;

pub use error::{
    BulkProblem, Conflict, DomainError, DomainResult, Entity, ErrorChain, InactiveAction, Invalid, NotFound,
    Rule,
};
pub use page::{KeysetPage, Page, PageRequest};
