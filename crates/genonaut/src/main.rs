//! `genonaut`: loads `.env`, parses the command line, starts logging, runs the command.

use clap::Parser;
use genonaut::cli::{Cli, run};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // `.env` is optional; real environment variables win.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let _flush_logs = genonaut::telemetry::init(cli.log_format);
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("genonaut: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
