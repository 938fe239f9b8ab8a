//! End-to-end: the real application on a free port, a fresh PostgreSQL schema per test,
//! every route's success and error paths, and the client workflows of the contract.

mod browser;
mod comfyui;
mod console;
mod content;
mod events;
mod experiments;
mod idempotency;
mod import;
mod interactions;
mod jobs;
mod keys;
mod live;
mod previews;
mod recommendations;
mod recommender;
mod security;
mod semantic;
mod system;
mod users;
mod webhooks;
mod workflows;
