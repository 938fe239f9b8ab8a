//! `genonaut`: loads `.env`, parses the command line, starts logging, runs the command.

use clap::Parser;
use genonaut::cli::{Cli, run};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // `.env` is optional; real environment variables win.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let _flush_logs = match genonaut::telemetry::init(cli.log_format) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("genonaut: starting the log writer: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("genonaut: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
