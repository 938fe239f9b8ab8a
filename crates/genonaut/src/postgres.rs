//! Making sure a PostgreSQL server answers: the configured one, or a private cluster started
//! under the data directory when none answers and PostgreSQL binaries are installed.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use genonaut_db::admin::{Probe, probe};
use secrecy::{ExposeSecret, SecretString};

use crate::config::{DatabaseConfig, PrivatePostgres};

/// PostgreSQL's server programs needed for a private cluster.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// `initdb`.
    pub initdb: PathBuf,
    /// `pg_ctl`.
    pub pg_ctl: PathBuf,
}

/// Finds `initdb` and `pg_ctl` on `PATH`, else in the newest `/usr/lib/postgresql/*/bin`.
pub fn find_binaries() -> Option<Binaries> {
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .map(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join(name))
                    .find(|f| f.is_file())
            })
            .unwrap_or_default()
    };
    if let (Some(initdb), Some(pg_ctl)) = (on_path("initdb"), on_path("pg_ctl")) {
        return Some(Binaries { initdb, pg_ctl });
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .collect();
    versions.sort();
    let (_, bin) = versions.pop()?;
    Some(Binaries {
        initdb: bin.join("initdb"),
        pg_ctl: bin.join("pg_ctl"),
    })
}

/// The uid/gid to run PostgreSQL as when we are root (PostgreSQL refuses to run as root):
/// the `postgres` user if it exists, else `nobody`.
fn unprivileged_user() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let entry = |name: &str| {
        passwd.lines().find_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            (f.len() > 3 && f[0] == name)
                .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
                .flatten()
        })
    };
    entry("postgres").or_else(|| entry("nobody"))
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Host and port of a URL (defaults 127.0.0.1:5432).
fn host_port(url: &str) -> (String, u16) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    match host_port.rsplit_once(':') {
        Some((h, p)) => (h.to_owned(), p.parse().unwrap_or(5432)),
        None => (
            if host_port.is_empty() {
                "127.0.0.1"
            } else {
                host_port
            }
            .to_owned(),
            5432,
        ),
    }
}

/// A private cluster under `dir`.
pub struct PrivateCluster {
    /// Data directory.
    pub dir: PathBuf,
    /// TCP port it listens on (127.0.0.1).
    pub port: u16,
    binaries: Binaries,
    user: Option<(u32, u32)>,
}

impl PrivateCluster {
    /// A cluster description (nothing is started yet).
    pub fn new(dir: PathBuf, port: u16, binaries: Binaries) -> Self {
        let user = if running_as_root() {
            unprivileged_user()
        } else {
            None
        };
        PrivateCluster {
            dir,
            port,
            binaries,
            user,
        }
    }

    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        if let Some((uid, gid)) = self.user {
            cmd.uid(uid).gid(gid);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    fn chown_tree(&self, path: &Path) -> anyhow::Result<()> {
        let Some((uid, gid)) = self.user else {
            return Ok(());
        };
        std::os::unix::fs::chown(path, Some(uid), Some(gid))
            .with_context(|| format!("chown {}", path.display()))?;
        if path.is_dir() {
            for entry in std::fs::read_dir(path)? {
                self.chown_tree(&entry?.path())?;
            }
        }
        Ok(())
    }

    /// Initialises the cluster if needed and starts it; returns once it accepts connections.
    pub fn start(&self) -> anyhow::Result<()> {
        let parent = self.dir.parent().context("cluster directory has no parent")?;
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        if self.user.is_some() {
            // The unprivileged user must reach the data directory.
            std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o755))?;
        }
        if !self.dir.join("PG_VERSION").is_file() {
            std::fs::create_dir_all(&self.dir)?;
            self.chown_tree(&self.dir)?;
            let out = self
                .command(&self.binaries.initdb)
                .arg("-D")
                .arg(&self.dir)
                .args([
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-instructions",
                ])
                .output()
                .context("running initdb")?;
            if !out.status.success() {
                bail!("initdb failed: {}", String::from_utf8_lossy(&out.stderr));
            }
        }
        let log = self.dir.join("server.log");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.dir.display()
        );
        let out = self
            .command(&self.binaries.pg_ctl)
            .arg("-D")
            .arg(&self.dir)
            .arg("-l")
            .arg(&log)
            .args(["-o", &options, "-w", "-t", "60", "start"])
            .output()
            .context("running pg_ctl start")?;
        if !out.status.success() {
            bail!(
                "pg_ctl start failed: {}{} (see {})",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
                log.display()
            );
        }
        Ok(())
    }

    /// Stops the cluster (fast shutdown).
    pub fn stop(&self) -> anyhow::Result<()> {
        let out = self
            .command(&self.binaries.pg_ctl)
            .arg("-D")
            .arg(&self.dir)
            .args(["-m", "fast", "-w", "stop"])
            .output()
            .context("running pg_ctl stop")?;
        if !out.status.success() {
            bail!("pg_ctl stop failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }

    /// The URL of database `db` on this cluster.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

/// Makes sure a server answers at `config.url`; otherwise, if allowed and possible, starts a
/// private cluster under the data directory and points `config.url` at it.
pub async fn ensure_server(config: &mut DatabaseConfig) -> anyhow::Result<()> {
    let url = config.url.expose_secret().to_owned();
    let reason = match probe(&url).await? {
        Probe::ServerAnswered => return Ok(()),
        Probe::NoServer(reason) => reason,
    };
    let no_server = || {
        format!(
            "no PostgreSQL server answers at DATABASE_URL={} ({reason}). Start PostgreSQL there, or set \
             DATABASE_URL to a running server",
            config.redacted_url()
        )
    };
    if config.private_postgres == PrivatePostgres::Never {
        bail!("{}.", no_server());
    }
    let (host, port) = host_port(&url);
    if !matches!(host.as_str(), "127.0.0.1" | "localhost" | "::1" | "[::1]") {
        bail!(
            "{} (a private PostgreSQL is only started for a local DATABASE_URL).",
            no_server()
        );
    }
    let Some(binaries) = find_binaries() else {
        bail!(
            "{}; PostgreSQL's initdb/pg_ctl were not found to start a private one.",
            no_server()
        );
    };
    let dir = std::path::absolute(config.data_dir.join("postgres"))?;
    let cluster = PrivateCluster::new(dir, port, binaries);
    tracing::warn!(%reason, dir = %cluster.dir.display(), port, "no PostgreSQL answers; starting a private cluster");
    tokio::task::spawn_blocking(move || cluster.start().map(|()| cluster)).await??;
    let db = genonaut_db::admin::database_name(&url)?;
    let private = format!("postgres://postgres@127.0.0.1:{port}/{db}");
    tracing::info!(url = %private, "private PostgreSQL is running (stop it with `pg_ctl -D <dir> stop`)");
    config.url = SecretString::from(private);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port_come_from_the_url() {
        assert_eq!(
            host_port("postgres://postgres@127.0.0.1:5432/genonaut"),
            ("127.0.0.1".into(), 5432)
        );
        assert_eq!(
            host_port("postgres://u:p@db.internal/x?sslmode=disable"),
            ("db.internal".into(), 5432)
        );
        assert_eq!(host_port("postgres://localhost:6000"), ("localhost".into(), 6000));
    }
}
