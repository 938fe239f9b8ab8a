//! # genonaut-jobs
//!
//! The job runner of Genonaut and its generator adapters. Depends only on `genonaut-domain`:
//! the queue, the events and the media store are ports, wired by the binary.
//!
//! * [`runner::Runner`] — workers that claim jobs (`FOR UPDATE SKIP LOCKED` in the PostgreSQL
//!   adapter), renew their leases, run the generator, and record the outcome under the lease;
//!   retries with exponential backoff; cancellation; graceful release on shutdown; the reaper.
//! * [`offline::OfflineGenerator`] — deterministic text, PNG, WAV and animated PNG from the
//!   prompt and a seed; [`offline::NoopGenerator`] for measuring the queue.
//! * [`openai::OpenAiGenerator`] — OpenAI-compatible servers (chat completions, images).
//! * [`comfyui::ComfyUiGenerator`] — images through a ComfyUI server's workflows.
//! * [`media::FsMediaStore`] — media files on disk, served by the API under `/media/`.

pub mod comfyui;
pub mod media;
pub mod offline;
pub mod openai;
pub mod retry;
pub mod runner;
pub mod webhooks;
