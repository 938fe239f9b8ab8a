//! # genonaut (the server binary)
//!
//! Configuration, command line and wiring of Genonaut: it builds one PostgreSQL pool per
//! served schema, the adapters of `genonaut-db` over each, the domain services over those, and
//! serves them through `genonaut-http`. No business logic lives here.

pub mod app;
pub mod cli;
pub mod config;
pub mod embed;
pub mod jobs;
pub mod keys;
pub mod postgres;
pub mod recs;
pub mod telemetry;

pub use app::Application;
pub use config::Config;
