//! Installing a library's pinned build into the per-user cache, from its PyPI wheel.
//!
//! The wheel is fetched with `python3 -m pip download`, so pip's own settings (`pip.conf`,
//! `PIP_INDEX_URL`, `PIP_FIND_LINKS`, proxies, certificates) apply. It is checked against the
//! pinned sha256, the library is taken out of it and checked against its own sha256, written
//! beside its final place and renamed into it: the cache never holds a partial file.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::cache::{self, CACHE_DIR_VAR};
use crate::library::{Artifact, RuntimeLibrary};
use crate::locate::{GUIDE, LocateError, locate_in};
use crate::staging::{self, Staging};
use crate::wheel::{self, WheelError};

/// Why a library could not be installed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadError {
    /// No per-user cache folder is known.
    #[error(
        "there is no per-user cache folder to install {library} into: set {CACHE_DIR_VAR} (or \
         XDG_CACHE_HOME, or HOME) to a folder you can write; {GUIDE}"
    )]
    NoCacheDir {
        /// The library.
        library: &'static RuntimeLibrary,
    },
    /// No pinned build for this platform.
    #[error(
        "there is no pinned build of {library} for {os}/{arch} (only for {pinned}): install \
         {package} {version} for this platform yourself (e.g. `pip install {package}=={version}`, \
         found automatically) and set {var} to its library file; {GUIDE}",
        package = library.package,
        version = library.version,
        var = library.env_var,
        pinned = pinned_platforms(library),
    )]
    UnsupportedPlatform {
        /// The library.
        library: &'static RuntimeLibrary,
        /// This platform's system.
        os: &'static str,
        /// This platform's processor.
        arch: &'static str,
    },
    /// The cache folder cannot be written.
    #[error(
        "cannot write to the cache folder `{}`: {source}; make it writable, or set \
         {CACHE_DIR_VAR} to a folder you can write; {GUIDE}",
        dir.display()
    )]
    CacheNotWritable {
        /// The folder.
        dir: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// pip could not be started.
    #[error(
        "cannot run `{python} -m pip` ({source}): install Python 3 with pip, or {manual}; {GUIDE}"
    )]
    NoPip {
        /// The Python interpreter tried.
        python: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
        /// How to install the library by hand.
        manual: Manual,
    },
    /// pip could not download the wheel (offline, refused by the index, no such file).
    #[error("pip could not download {library} ({status}){detail}. Without pip: {manual}; {GUIDE}")]
    PipFailed {
        /// The library.
        library: &'static RuntimeLibrary,
        /// pip's exit status.
        status: std::process::ExitStatus,
        /// pip's last messages, when they were captured.
        detail: PipOutput,
        /// How to install the library by hand.
        manual: Manual,
    },
    /// pip succeeded but left no wheel of the expected name.
    #[error("pip downloaded no `{}` (its index may serve other builds). Instead: {manual}; {GUIDE}", manual.artifact.wheel)]
    NoWheel {
        /// How to install the library by hand.
        manual: Manual,
    },
    /// The wheel is not the pinned one: damaged, cut short, or another build.
    #[error(
        "the downloaded `{}` is damaged or not the pinned build: its sha256 is {found}, not \
         {}. Run the command again; if it persists, your package index serves another file. \
         Instead: {manual}; {GUIDE}",
        manual.artifact.wheel, manual.artifact.wheel_sha256
    )]
    WheelChecksum {
        /// The wheel's sha256.
        found: String,
        /// How to install the library by hand.
        manual: Manual,
    },
    /// The wheel cannot be read as a zip archive, or lacks the library.
    #[error("`{}` is not a usable wheel: {reason}. Instead: {manual}; {GUIDE}", manual.artifact.wheel)]
    BadWheel {
        /// What is wrong.
        reason: String,
        /// How to install the library by hand.
        manual: Manual,
    },
    /// The library taken out of the wheel is not the pinned build.
    #[error(
        "the library `{}` in the wheel is not the pinned build ({found}; expected {expected}): \
         nothing was installed. Instead: {manual}; {GUIDE}",
        manual.artifact.member
    )]
    LibraryChecksum {
        /// What it is: its size or sha256.
        found: String,
        /// What the pinned build has.
        expected: String,
        /// How to install the library by hand.
        manual: Manual,
    },
    /// A copy was found but cannot be used (a wrong variable, another version, another
    /// processor): fix it rather than download.
    #[error(transparent)]
    Unusable(LocateError),
}

/// How to install a library by hand: what to download and where to put it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manual {
    /// The library.
    pub library: &'static RuntimeLibrary,
    /// Its pinned build for this platform.
    pub artifact: &'static Artifact,
    /// Where the library goes.
    pub destination: PathBuf,
}

impl Manual {
    /// Where the wheel is published: its PyPI page.
    pub fn url(&self) -> String {
        format!("https://pypi.org/project/{}/{}/#files", self.library.package, self.library.version)
    }
}

impl std::fmt::Display for Manual {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "download `{}` (sha256 {}) from {}, take `{}` out of it (a wheel is a zip file) and \
             put it at `{}`, or set {} to it",
            self.artifact.wheel,
            self.artifact.wheel_sha256,
            self.url(),
            self.artifact.member,
            self.destination.display(),
            self.library.env_var
        )
    }
}

/// pip's last lines of output, when captured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipOutput(pub String);

impl std::fmt::Display for PipOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.trim().is_empty() {
            f.write_str("; its messages are above")
        } else {
            write!(f, ": {}", self.0.trim())
        }
    }
}

/// What [`Installer::install`] or [`Installer::ensure`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Installed {
    /// The pinned build was already in the cache: nothing was downloaded.
    Cached(PathBuf),
    /// It was downloaded and installed.
    Downloaded(PathBuf),
    /// A usable copy was found elsewhere (the variable, a Python package): nothing was done.
    Found(PathBuf),
}

impl Installed {
    /// The library file.
    pub fn path(&self) -> &Path {
        match self {
            Self::Cached(path) | Self::Downloaded(path) | Self::Found(path) => path,
        }
    }
}

/// Installs libraries into the per-user cache (what `download-files` and `cargo xtask test`
/// run).
///
/// ```no_run
/// use agents_runtime_libs::{Installer, ONNX_RUNTIME};
///
/// let installed = Installer::new().ensure(&ONNX_RUNTIME, &mut std::io::stderr())?;
/// println!("{}", installed.path().display());
/// # Ok::<(), agents_runtime_libs::DownloadError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Installer {
    cache_dir: Option<PathBuf>,
    python: OsString,
    pip_args: Vec<OsString>,
    quiet: bool,
}

impl Default for Installer {
    fn default() -> Self {
        Self::new()
    }
}

impl Installer {
    /// Installs into [`cache_dir`](crate::cache_dir) with `python3 -m pip` as configured,
    /// pip's progress shown on standard error.
    pub fn new() -> Self {
        Self {
            cache_dir: cache::cache_dir(),
            python: OsString::from(crate::PYTHON),
            pip_args: Vec::new(),
            quiet: false,
        }
    }

    /// Installs into `dir` instead of the per-user cache.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// The Python interpreter that runs pip (default `python3`).
    pub fn python(mut self, python: impl Into<OsString>) -> Self {
        self.python = python.into();
        self
    }

    /// Extra arguments for `pip download`, e.g. `--index-url URL` or `--no-index
    /// --find-links DIR` (pip's configuration applies without them).
    pub fn pip_args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.pip_args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Captures pip's output instead of showing it (it then appears in errors).
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    /// Makes `library` available: a usable copy already found (its variable, this cache, a
    /// Python package) is kept; otherwise the pinned build is installed into the cache.
    /// When the library's variable is set, it alone counts: if it names no usable copy, the
    /// error says so ([`DownloadError::Unusable`]) and nothing is downloaded. Progress is
    /// written to `progress`.
    pub fn ensure(
        &self,
        library: &'static RuntimeLibrary,
        progress: &mut dyn Write,
    ) -> Result<Installed, DownloadError> {
        let located = locate_in(library, self.cache_dir.as_deref());
        // The variable wins: a wrong one is reported, not worked around.
        if std::env::var_os(library.env_var).is_some_and(|v| !v.is_empty()) {
            let path = located.map_err(DownloadError::Unusable)?;
            let _ = writeln!(
                progress,
                "{}: using {} ({})",
                library.name,
                path.display(),
                library.env_var
            );
            return Ok(Installed::Found(path));
        }
        match located {
            Ok(path) if self.is_cached(library, &path) => self.install(library, progress),
            Ok(path) => {
                let _ = writeln!(progress, "{}: using {}", library.name, path.display());
                Ok(Installed::Found(path))
            }
            Err(LocateError::NotFound { .. } | LocateError::DamagedCache { .. }) => {
                self.install(library, progress)
            }
            Err(error) => Err(DownloadError::Unusable(error)),
        }
    }

    fn is_cached(&self, library: &'static RuntimeLibrary, path: &Path) -> bool {
        match (&self.cache_dir, library.artifact()) {
            (Some(dir), Some(artifact)) => cache::cached_path(dir, library, artifact) == path,
            _ => false,
        }
    }

    /// Installs the pinned build of `library` into the cache, unless it is there already
    /// (checked by its sha256: a damaged copy is replaced). Progress is written to `progress`.
    pub fn install(
        &self,
        library: &'static RuntimeLibrary,
        progress: &mut dyn Write,
    ) -> Result<Installed, DownloadError> {
        let (os, arch) = (std::env::consts::OS, std::env::consts::ARCH);
        let artifact =
            library.artifact().ok_or(DownloadError::UnsupportedPlatform { library, os, arch })?;
        let cache = self.cache_dir.as_deref().ok_or(DownloadError::NoCacheDir { library })?;
        let destination = cache::cached_path(cache, library, artifact);
        let manual = manual(library, artifact, &destination);
        if let Ok(existing) = std::fs::read(&destination) {
            if sha256_hex(&existing) == artifact.sha256 {
                let _ =
                    writeln!(progress, "{library}: already installed at {}", destination.display());
                return Ok(Installed::Cached(destination));
            }
            let _ = writeln!(
                progress,
                "{library}: the copy at {} is damaged; replacing it",
                destination.display()
            );
        }
        let folder = destination.parent().unwrap_or(cache);
        std::fs::create_dir_all(folder).map_err(|source| DownloadError::CacheNotWritable {
            dir: folder.to_path_buf(),
            source,
        })?;
        for leftover in staging::remove_leftovers(folder) {
            let _ = writeln!(
                progress,
                "{library}: removed {}, left by an interrupted download",
                leftover.display()
            );
        }
        let staging = Staging::new(folder)?;

        let _ = writeln!(
            progress,
            "{library}: downloading {} with pip ({}=={})",
            artifact.wheel, library.package, library.version
        );
        let _ = progress.flush();
        self.pip_download(library, artifact, &staging.dir, &manual)?;
        let wheel_path = staging.dir.join(artifact.wheel);
        let Ok(zip) = std::fs::read(&wheel_path) else {
            return Err(DownloadError::NoWheel { manual });
        };
        let found = sha256_hex(&zip);
        if found != artifact.wheel_sha256 {
            return Err(DownloadError::WheelChecksum { found, manual });
        }
        let _ = writeln!(progress, "{library}: verified the wheel; extracting {}", artifact.member);
        let contents = match wheel::extract(&zip, artifact.member, artifact.size) {
            Ok(contents) => contents,
            Err(WheelError::Corrupt(reason)) => {
                return Err(DownloadError::BadWheel { reason, manual });
            }
            Err(WheelError::NoMember) => {
                let reason = format!("it has no `{}`", artifact.member);
                return Err(DownloadError::BadWheel { reason, manual });
            }
            Err(WheelError::Size(size)) => {
                return Err(DownloadError::LibraryChecksum {
                    found: format!("{size} bytes"),
                    expected: format!("{} bytes", artifact.size),
                    manual,
                });
            }
        };
        let found = sha256_hex(&contents);
        if found != artifact.sha256 {
            return Err(DownloadError::LibraryChecksum {
                found: format!("sha256 {found}"),
                expected: format!("sha256 {}", artifact.sha256),
                manual,
            });
        }
        staging.commit(&contents, &destination)?;
        let _ = writeln!(progress, "{library}: installed at {}", destination.display());
        Ok(Installed::Downloaded(destination))
    }

    fn pip_download(
        &self,
        library: &'static RuntimeLibrary,
        artifact: &Artifact,
        dir: &Path,
        manual: &Manual,
    ) -> Result<(), DownloadError> {
        let mut command = Command::new(&self.python);
        command
            .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
            .args(["--disable-pip-version-check", "--python-version", artifact.python_version])
            .args(["--platform", artifact.wheel_platform, "--dest"])
            .arg(dir)
            .args(&self.pip_args)
            .arg(format!("{}=={}", library.package, library.version))
            .stdin(Stdio::null());
        if self.quiet {
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
        } else {
            // pip's progress bar and messages go to the terminal.
            command.stdout(Stdio::inherit()).stderr(Stdio::inherit());
        }
        let output = command.output().map_err(|source| DownloadError::NoPip {
            python: self.python.to_string_lossy().into_owned(),
            source,
            manual: manual.clone(),
        })?;
        if output.status.success() {
            return Ok(());
        }
        Err(DownloadError::PipFailed {
            library,
            status: output.status,
            detail: PipOutput(last_lines(&output.stdout, &output.stderr)),
            manual: manual.clone(),
        })
    }
}

fn manual(
    library: &'static RuntimeLibrary,
    artifact: &'static Artifact,
    destination: &Path,
) -> Manual {
    Manual { library, artifact, destination: destination.to_path_buf() }
}

fn pinned_platforms(library: &'static RuntimeLibrary) -> String {
    let list: Vec<String> =
        library.artifacts.iter().map(|a| format!("{}/{}", a.os, a.arch)).collect();
    if list.is_empty() { "none".to_owned() } else { list.join(", ") }
}

/// The last few non-empty lines of pip's output.
fn last_lines(stdout: &[u8], stderr: &[u8]) -> String {
    let text = format!("{}\n{}", String::from_utf8_lossy(stdout), String::from_utf8_lossy(stderr));
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines[lines.len().saturating_sub(4)..].join(" / ")
}

/// The lowercase hex sha256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
