//! # genonaut-jobs
//!
//! The job-runner adapter of Genonaut (claim → run → complete/fail with leases, retries and
//! cancellation) and the generator adapters. Depends only on `genonaut-domain`.
//!
//! Generation jobs are currently driven through the API (`queue/process`, status routes); the
//! runner lands with the jobs issue.
