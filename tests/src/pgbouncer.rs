//! A private PgBouncer in transaction pooling mode, in front of the
//! PostgreSQL of `TENANCY_PG_URL`, on a free local port, with its own
//! configuration in a temporary directory; killed on drop.
//!
//! The binary is `pgbouncer` on the `PATH` or `/usr/sbin/pgbouncer` (Debian's
//! package; `.ci/run` installs it). PgBouncer refuses to run as root: as root
//! it is started with `-u postgres` (or `-u nobody` where there is no such
//! user), which it switches to after reading its configuration.

use std::{
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A running PgBouncer.
#[derive(Debug)]
pub struct PgBouncer {
    child: Child,
    port: u16,
    user: String,
    password: Option<String>,
    dir: tempfile::TempDir,
}

/// The PgBouncer binary, if installed.
pub fn binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("pgbouncer"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let sbin = PathBuf::from("/usr/sbin/pgbouncer");
        sbin.is_file().then_some(sbin)
    })
}

/// The parts of a `postgres://user[:password]@host[:port]/db` URL.
struct Upstream {
    user: String,
    password: Option<String>,
    host: String,
    port: u16,
}

fn parse(url: &str) -> Result<Upstream, String> {
    let rest = url
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or_else(|| format!("not a URL: {url}"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let (userinfo, hostport) = authority
        .rsplit_once('@')
        .unwrap_or(("postgres", authority));
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u.to_owned(), Some(p.to_owned())),
        None => (userinfo.to_owned(), None),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (
            h.to_owned(),
            p.parse().map_err(|_| format!("bad port in {url}"))?,
        ),
        None => (hostport.to_owned(), 5432),
    };
    Ok(Upstream {
        user,
        password,
        host,
        port,
    })
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

fn user_exists(name: &str) -> bool {
    Command::new("id")
        .arg(name)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl PgBouncer {
    /// Starts PgBouncer (`pool_mode = transaction`) in front of the server
    /// of `upstream_url` and waits until it accepts connections.
    ///
    /// # Errors
    /// When the binary is missing or PgBouncer does not come up (its log is
    /// in the message).
    pub fn start(upstream_url: &str) -> Result<PgBouncer, String> {
        PgBouncer::start_with(
            upstream_url,
            &[
                ("default_pool_size", "20"),
                // Prepared statements never outlive a transaction.
                ("server_reset_query", "DEALLOCATE ALL"),
                ("server_reset_query_always", "1"),
            ],
        )
    }

    /// [`PgBouncer::start`] with `settings` for its `[pgbouncer]` section
    /// (pool mode transaction, trust authentication and the port are fixed).
    ///
    /// # Errors
    /// As [`PgBouncer::start`].
    pub fn start_with(upstream_url: &str, settings: &[(&str, &str)]) -> Result<PgBouncer, String> {
        let bin = binary().ok_or("pgbouncer is not installed (apt-get install pgbouncer)")?;
        let up = parse(upstream_url)?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let port = free_port()?;
        let log = dir.path().join("pgbouncer.log");
        let auth = dir.path().join("users.txt");
        let config = dir.path().join("pgbouncer.ini");
        let password = up.password.clone().unwrap_or_default();
        std::fs::write(&auth, format!("\"{}\" \"{password}\"\n", up.user))
            .map_err(|e| e.to_string())?;
        let password_opt = up
            .password
            .as_ref()
            .map(|p| format!(" password={p}"))
            .unwrap_or_default();
        let ini = format!(
            "[databases]\n\
             * = host={host} port={uport} user={user}{password_opt}\n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             auth_type = trust\n\
             auth_file = {auth}\n\
             pool_mode = transaction\n\
             max_client_conn = 1000\n\
             ignore_startup_parameters = extra_float_digits\n\
             logfile = {log}\n\
             admin_users = {user}\n{extra}",
            host = up.host,
            uport = up.port,
            user = up.user,
            auth = auth.display(),
            log = log.display(),
            extra = settings
                .iter()
                .map(|(k, v)| format!("{k} = {v}\n"))
                .collect::<String>(),
        );
        std::fs::write(&config, ini).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(bin);
        if is_root() {
            // The switched-to user must read the files and write the log.
            let run_as = if user_exists("postgres") {
                "postgres"
            } else {
                "nobody"
            };
            for path in [dir.path(), &auth, &config] {
                let mode = if path.is_dir() { "0777" } else { "0644" };
                let _ = Command::new("chmod").arg(mode).arg(path).status();
            }
            cmd.arg("-u").arg(run_as);
        }
        let child = cmd
            .arg("-q")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("pgbouncer does not start: {e}"))?;
        let mut bouncer = PgBouncer {
            child,
            port,
            user: up.user,
            password: up.password,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(bouncer);
            }
            if let Ok(Some(status)) = bouncer.child.try_wait() {
                return Err(format!("pgbouncer exited ({status}): {}", bouncer.log()));
            }
            if Instant::now() > deadline {
                return Err(format!("pgbouncer did not listen: {}", bouncer.log()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The URL of database `db` through this PgBouncer.
    pub fn url(&self, db: &str) -> String {
        let password = self
            .password
            .as_ref()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        format!(
            "postgres://{}{password}@127.0.0.1:{}/{db}",
            self.user, self.port
        )
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The installed PgBouncer's version (major, minor).
pub fn version() -> Option<(u32, u32)> {
    let out = Command::new(binary()?).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let v = text.split_whitespace().nth(1)?;
    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??))
}
