//! [`NetNs`]: a private network namespace for media tests.
//!
//! libwebrtc (inside `liblivekit_ffi.so`) gathers no ICE candidates on loopback, so a test that
//! sends media to the LiveKit test server runs in a network namespace of its own: `lo` up for
//! the signal WebSocket and a veth pair ([`NetNs::SERVER_ADDR`], [`NetNs::CLIENT_ADDR`]) for
//! media. Nothing leaves the namespace, and it is deleted when the [`NetNs`] is dropped (also
//! when the test fails and unwinds). Creating one needs root (`CAP_SYS_ADMIN`) and the `ip`
//! command (iproute2); without them [`NetNs::create`] fails with the reason, it never skips.

use std::fs::File;
use std::io;
use std::net::Ipv4Addr;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;

use nix::sched::{CloneFlags, setns};

/// Why a network namespace could not be created or entered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetNsError {
    /// The `ip` command could not be run.
    #[error("could not run `ip {args}`: {source}; install iproute2 (`apt-get install iproute2`)")]
    Spawn {
        /// The arguments.
        args: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The `ip` command failed.
    #[error(
        "`ip {args}` failed: {stderr}; network namespaces need root (CAP_SYS_ADMIN) and the veth kernel module (`modprobe veth`); see docs/src/troubleshooting.md#room-tests-need-root"
    )]
    Command {
        /// The arguments.
        args: String,
        /// What `ip` wrote to stderr.
        stderr: String,
    },
    /// The namespace could not be entered.
    #[error(
        "could not enter the network namespace `{name}`: {reason}; this needs root (CAP_SYS_ADMIN); see docs/src/troubleshooting.md#room-tests-need-root"
    )]
    Enter {
        /// The namespace.
        name: String,
        /// What failed.
        reason: String,
    },
}

/// A network namespace of the test's own with `lo` up and a veth pair between
/// [`SERVER_ADDR`](Self::SERVER_ADDR) and [`CLIENT_ADDR`](Self::CLIENT_ADDR) (both inside it).
///
/// ```no_run
/// use agents_test_support::NetNs;
///
/// let ns = NetNs::create().expect("a network namespace (run as root)");
/// let output = ns.command("ip").args(["-br", "addr"]).output().expect("ip runs");
/// assert!(String::from_utf8_lossy(&output.stdout).contains("10.201.0.1"));
/// let inside = ns.spawn_thread(|| std::net::UdpSocket::bind("10.201.0.2:0").is_ok()).unwrap();
/// assert!(inside.join().unwrap().unwrap());
/// ```
#[derive(Debug)]
pub struct NetNs {
    name: String,
    /// The namespace itself, for [`NetNs::shared`]: its name is deleted at once, this open
    /// handle keeps it alive until the process exits.
    handle: Option<File>,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

impl NetNs {
    /// The address of the first veth end (give it to the server).
    pub const SERVER_ADDR: Ipv4Addr = Ipv4Addr::new(10, 201, 0, 1);
    /// The address of the second veth end (give it to the client).
    pub const CLIENT_ADDR: Ipv4Addr = Ipv4Addr::new(10, 201, 0, 2);

    /// Creates a namespace named `lkt-<pid>-<n>`, brings `lo` up and adds the veth pair.
    ///
    /// # Errors
    ///
    /// [`NetNsError`] when `ip` is missing or refuses (not root, no veth module).
    pub fn create() -> Result<Self, NetNsError> {
        let name = format!("lkt-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        ip(&["netns", "add", &name])?;
        // From here on, Drop deletes the namespace (and the veth pair inside it).
        let ns = Self { name, handle: None };
        let n = ns.name.as_str();
        ip(&["-n", n, "link", "set", "lo", "up"])?;
        ip(&["-n", n, "link", "add", "veth-srv", "type", "veth", "peer", "name", "veth-cli"])?;
        ip(&["-n", n, "addr", "add", &format!("{}/24", Self::SERVER_ADDR), "dev", "veth-srv"])?;
        ip(&["-n", n, "addr", "add", &format!("{}/24", Self::CLIENT_ADDR), "dev", "veth-cli"])?;
        ip(&["-n", n, "link", "set", "veth-srv", "up"])?;
        ip(&["-n", n, "link", "set", "veth-cli", "up"])?;
        Ok(ns)
    }

    /// The process's one shared namespace, created on the first call, for tests that use
    /// `liblivekit_ffi.so`: the library's threads are created once per process, by the first
    /// thread that calls into it, and stay in that thread's namespace — so every room test of
    /// a test binary must run in the same one. Its name is deleted at once (nothing is left
    /// behind, even when the process is killed); an open handle keeps it alive until the
    /// process exits. [`command`](Self::command) cannot enter it.
    ///
    /// # Errors
    ///
    /// What [`create`](Self::create) fails with, on every call.
    pub fn shared() -> Result<&'static NetNs, &'static NetNsError> {
        static SHARED: std::sync::OnceLock<Result<NetNs, NetNsError>> = std::sync::OnceLock::new();
        SHARED
            .get_or_init(|| {
                let mut ns = Self::create()?;
                let path = format!("/var/run/netns/{}", ns.name);
                let handle = File::open(&path).map_err(|e| NetNsError::Enter {
                    name: ns.name.clone(),
                    reason: e.to_string(),
                })?;
                ns.handle = Some(handle);
                let _ = ip(&["netns", "del", &ns.name]);
                Ok(ns)
            })
            .as_ref()
    }

    /// The namespace's name (as `ip netns list` shows it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A command that runs `program` inside the namespace (`ip netns exec <name> <program>`).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.name]).arg(program);
        command
    }

    /// Runs `f` on a new thread that entered the namespace first: every socket it opens (a
    /// tokio runtime built inside `f` included, with the tasks it runs) lives in the namespace.
    ///
    /// # Errors
    ///
    /// [`NetNsError::Enter`] when the thread could not be spawned. When the thread cannot
    /// enter the namespace, `f` does not run and joining the handle yields that
    /// [`NetNsError::Enter`].
    pub fn spawn_thread<T, F>(&self, f: F) -> Result<JoinHandle<Result<T, NetNsError>>, NetNsError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let name = self.name.clone();
        let handle = match &self.handle {
            Some(handle) => Some(handle.try_clone().map_err(|error| NetNsError::Enter {
                name: self.name.clone(),
                reason: error.to_string(),
            })?),
            None => None,
        };
        std::thread::Builder::new()
            .name(format!("netns-{name}"))
            .spawn(move || {
                match handle {
                    Some(handle) => setns(&handle, CloneFlags::CLONE_NEWNET)
                        .map_err(|e| NetNsError::Enter { name, reason: e.to_string() })?,
                    None => enter(&name)?,
                }
                Ok(f())
            })
            .map_err(|error| NetNsError::Enter {
                name: self.name.clone(),
                reason: error.to_string(),
            })
    }
}

/// Moves the calling thread into the namespace `name`.
fn enter(name: &str) -> Result<(), NetNsError> {
    let fail = |reason: String| NetNsError::Enter { name: name.to_owned(), reason };
    let file = File::open(format!("/var/run/netns/{name}")).map_err(|e| fail(e.to_string()))?;
    setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| fail(e.to_string()))
}

impl Drop for NetNs {
    fn drop(&mut self) {
        if self.handle.is_some() {
            return; // its name is already gone
        }
        // Deleting the namespace removes the veth pair inside it. A failure cannot be
        // reported from Drop; `ip netns list` shows a leftover.
        let _ = ip(&["netns", "del", &self.name]);
    }
}

fn ip(args: &[&str]) -> Result<Output, NetNsError> {
    let joined = args.join(" ");
    let output = Command::new("ip")
        .args(args)
        .output()
        .map_err(|source| NetNsError::Spawn { args: joined.clone(), source })?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(NetNsError::Command {
            args: joined,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}
