//! Finding an installed library: the variable, the per-user cache, then Python's packages.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::binary::{self, BinaryProblem};
use crate::cache;
use crate::library::{RuntimeLibrary, parse_version};

/// The command that installs the libraries an agent needs, for messages.
pub(crate) const DOWNLOAD_COMMAND: &str = "<your agent> download-files";

/// The guide's section on runtime libraries, which every error of this crate ends with.
pub(crate) const GUIDE: &str = "see docs/src/troubleshooting.md#runtime-libraries";

/// Why no library can be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocateError {
    /// No copy anywhere.
    #[error(
        "{name} was not found; this program needs {wanted}. Install it with `{DOWNLOAD_COMMAND}`, \
         which puts it in the per-user cache{cache}, or set {var} to the library file, or `pip install {package}=={version}`. Looked in: {searched}{rejected}; {GUIDE}",
        name = library.name,
        wanted = library.wanted(),
        var = library.env_var,
        package = library.package,
        version = library.version,
        cache = cache_hint(cache.as_deref()),
        searched = display_paths(searched),
        rejected = display_rejected(rejected),
    )]
    NotFound {
        /// The library.
        library: &'static RuntimeLibrary,
        /// The folders searched, in order.
        searched: Vec<PathBuf>,
        /// Files found but not usable, and why.
        rejected: Vec<(PathBuf, String)>,
        /// The per-user cache folder, if there is one.
        cache: Option<PathBuf>,
    },
    /// The variable names a file that does not exist.
    #[error(
        "{var} is `{}`, which does not exist; set it to the {name} library file ({wanted}), or \
         unset it and run `{DOWNLOAD_COMMAND}` to install it in the per-user cache; {GUIDE}",
        path.display(),
        var = library.env_var,
        name = library.name,
        wanted = library.wanted(),
    )]
    EnvVarMissing {
        /// The library.
        library: &'static RuntimeLibrary,
        /// The variable's value.
        path: PathBuf,
    },
    /// The variable names a folder that holds no usable copy.
    #[error(
        "{var} is `{}`, a folder with no usable copy of {wanted}{skipped}; set it to the {name} \
         library file, or unset it and run `{DOWNLOAD_COMMAND}` to install it in the per-user \
         cache; {GUIDE}",
        path.display(),
        var = library.env_var,
        name = library.name,
        wanted = library.wanted(),
        skipped = display_skipped(rejected),
    )]
    EnvVarFolder {
        /// The library.
        library: &'static RuntimeLibrary,
        /// The variable's value: the folder.
        path: PathBuf,
        /// Files found in it but not usable, and why.
        rejected: Vec<(PathBuf, String)>,
    },
    /// The file is another version than the one wanted.
    #[error(
        "`{}` is {name} {found}, but this program needs {wanted}; set {var} to another copy, or \
         unset it and run `{DOWNLOAD_COMMAND}`; {GUIDE}",
        path.display(),
        name = library.name,
        wanted = library.wanted(),
        var = library.env_var,
    )]
    WrongVersion {
        /// The library.
        library: &'static RuntimeLibrary,
        /// The file.
        path: PathBuf,
        /// Its version.
        found: String,
    },
    /// The file is not a shared library for this processor.
    #[error(
        "`{}` is not usable as {name} on this machine ({arch}): {problem}; set {var} to the \
         library for {arch}, or unset it and run `{DOWNLOAD_COMMAND}`; {GUIDE}",
        path.display(),
        name = library.name,
        var = library.env_var,
        arch = std::env::consts::ARCH,
    )]
    WrongBinary {
        /// The library.
        library: &'static RuntimeLibrary,
        /// The file.
        path: PathBuf,
        /// What is wrong: another processor's, or not a library at all.
        problem: String,
    },
    /// The cached copy is damaged (another size than the pinned build).
    #[error(
        "the cached {name} at `{}` is damaged ({size} bytes, not {expected}); run \
         `{DOWNLOAD_COMMAND}` to replace it with {library}, or set {var} to another copy; {GUIDE}",
        path.display(),
        name = library.name,
        var = library.env_var,
    )]
    DamagedCache {
        /// The library.
        library: &'static RuntimeLibrary,
        /// The cached file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The pinned build's size.
        expected: u64,
    },
}

/// Finds `library`, in order:
///
/// 1. its variable (`ORT_DYLIB_PATH`, `LIVEKIT_LIB_PATH`): the library file, or a folder
///    holding it. When set, nothing else is searched;
/// 2. the per-user cache ([`cache_dir`](crate::cache_dir)), where `download-files` installs
///    the pinned build;
/// 3. the Python package that ships it (`onnxruntime`, `livekit`): in `$VIRTUAL_ENV`, then in
///    each `sys.path` folder of `python3` (asked with `python3 -c`, which imports nothing).
///
/// In a folder, the newest accepted version wins; files of other versions or for another
/// processor are skipped (and listed in the error when nothing is found).
pub fn locate(library: &'static RuntimeLibrary) -> Result<PathBuf, LocateError> {
    locate_in(library, cache::cache_dir().as_deref())
}

/// [`locate`] with `cache` as the per-user cache.
pub(crate) fn locate_in(
    library: &'static RuntimeLibrary,
    cache: Option<&Path>,
) -> Result<PathBuf, LocateError> {
    let mut search = Search {
        library,
        cache: cache.map(Path::to_path_buf),
        searched: Vec::new(),
        rejected: Vec::new(),
    };
    if let Some(value) = std::env::var_os(library.env_var).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(value);
        if path.is_dir() {
            return search.in_dir(&path).ok_or_else(|| LocateError::EnvVarFolder {
                library,
                path,
                rejected: std::mem::take(&mut search.rejected),
            });
        }
        if !path.exists() {
            return Err(LocateError::EnvVarMissing { library, path });
        }
        return check_file(library, path);
    }
    if let Some(path) = search.in_cache()? {
        return Ok(path);
    }
    for dir in python_dirs(library) {
        if search.searched.contains(&dir) {
            continue;
        }
        if let Some(found) = search.in_dir(&dir) {
            return Ok(found);
        }
    }
    Err(search.not_found())
}

/// A file given explicitly: its version (from its name) and processor checked.
fn check_file(library: &'static RuntimeLibrary, path: PathBuf) -> Result<PathBuf, LocateError> {
    let name = path.file_name().and_then(OsStr::to_str).unwrap_or_default();
    if let Some(Some(found)) = library.version_in_file_name(name)
        && !library.accepts_version(&found)
    {
        return Err(LocateError::WrongVersion { library, path, found });
    }
    match binary::check(&path) {
        Ok(()) => Ok(path),
        Err(problem) => {
            Err(LocateError::WrongBinary { library, path, problem: describe(&problem) })
        }
    }
}

fn describe(problem: &BinaryProblem) -> String {
    match problem {
        BinaryProblem::NotALibrary => "it is not a shared library".to_owned(),
        BinaryProblem::Architecture(arch) => format!("it is built for {arch}"),
    }
}

/// One search, remembering where it looked.
struct Search {
    library: &'static RuntimeLibrary,
    cache: Option<PathBuf>,
    searched: Vec<PathBuf>,
    rejected: Vec<(PathBuf, String)>,
}

impl Search {
    /// The pinned build in the per-user cache.
    fn in_cache(&mut self) -> Result<Option<PathBuf>, LocateError> {
        let (Some(dir), Some(artifact)) = (&self.cache, self.library.artifact()) else {
            return Ok(None);
        };
        let path = cache::cached_path(dir, self.library, artifact);
        self.searched.push(path.parent().map_or_else(|| dir.clone(), Path::to_path_buf));
        let Ok(meta) = std::fs::metadata(&path) else { return Ok(None) };
        if meta.len() != artifact.size {
            return Err(LocateError::DamagedCache {
                library: self.library,
                path,
                size: meta.len(),
                expected: artifact.size,
            });
        }
        Ok(Some(path))
    }

    /// The newest usable copy in `dir`.
    fn in_dir(&mut self, dir: &Path) -> Option<PathBuf> {
        self.searched.push(dir.to_path_buf());
        let entries = std::fs::read_dir(dir).ok()?;
        let package_version = package_version(dir, self.library);
        let mut best: Option<(Vec<u32>, PathBuf)> = None;
        let mut names: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        names.sort();
        for path in names {
            let Some(name) = path.file_name().and_then(OsStr::to_str) else { continue };
            let Some(in_name) = self.library.version_in_file_name(name) else { continue };
            let version = in_name.or_else(|| package_version.clone());
            if let Some(version) = &version
                && !self.library.accepts_version(version)
            {
                self.rejected.push((path, format!("version {version}")));
                continue;
            }
            if let Err(problem) = binary::check(&path) {
                self.rejected.push((path, describe(&problem)));
                continue;
            }
            let key = version.as_deref().and_then(parse_version).unwrap_or_default();
            if best.as_ref().is_none_or(|(best, _)| key > *best) {
                best = Some((key, path));
            }
        }
        best.map(|(_, path)| path)
    }

    fn not_found(&mut self) -> LocateError {
        LocateError::NotFound {
            library: self.library,
            searched: std::mem::take(&mut self.searched),
            rejected: std::mem::take(&mut self.rejected),
            cache: self.cache.clone(),
        }
    }
}

/// The version of the Python package installed at `dir` (`<site-packages>/<package_dir>`),
/// from its `<package>-<version>.dist-info` folder.
fn package_version(dir: &Path, library: &'static RuntimeLibrary) -> Option<String> {
    let depth = library.package_dir.split('/').count();
    let site = dir.ancestors().nth(depth)?;
    let prefix = format!("{}-", library.package);
    std::fs::read_dir(site).ok()?.filter_map(Result::ok).find_map(|entry| {
        let name = entry.file_name().into_string().ok()?;
        let version = name.strip_prefix(&prefix)?.strip_suffix(".dist-info")?;
        parse_version(version).map(|_| version.to_owned())
    })
}

/// `<site-packages>/<package_dir>` for the active virtual environment and `python3`'s path.
fn python_dirs(library: &'static RuntimeLibrary) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
        let lib = PathBuf::from(venv).join("lib");
        if let Ok(entries) = std::fs::read_dir(&lib) {
            let mut pythons: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().and_then(OsStr::to_str).is_some_and(|n| n.starts_with("python"))
                })
                .collect();
            pythons.sort();
            roots.extend(pythons.into_iter().map(|p| p.join("site-packages")));
        }
    }
    roots.extend(python_sys_path());
    roots
        .into_iter()
        .map(|root| library.package_dir.split('/').fold(root, |p, c| p.join(c)))
        .collect()
}

/// The folders of `python3`'s `sys.path`; none if there is no `python3`.
fn python_sys_path() -> Vec<PathBuf> {
    let output = Command::new(crate::PYTHON)
        .args(["-c", "import sys\nfor p in sys.path:\n    print(p)"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    match output {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .collect(),
        _ => Vec::new(),
    }
}

fn cache_hint(cache: Option<&Path>) -> String {
    match cache {
        Some(dir) => format!(" ({})", dir.display()),
        None => format!(" (none: set {} or HOME)", cache::CACHE_DIR_VAR),
    }
}

fn display_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "nowhere (no candidate locations)".to_owned();
    }
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn display_rejected(rejected: &[(PathBuf, String)]) -> String {
    let mut text = String::new();
    for (i, (path, why)) in rejected.iter().enumerate() {
        let sep = if i == 0 { ". Skipped: " } else { ", " };
        let _ = write!(text, "{sep}{} ({why})", path.display());
    }
    text
}

/// The files of a folder given by the variable that were skipped, for its error.
fn display_skipped(rejected: &[(PathBuf, String)]) -> String {
    if rejected.is_empty() {
        return String::new();
    }
    let list: Vec<String> =
        rejected.iter().map(|(path, why)| format!("{} ({why})", path.display())).collect();
    format!(" (skipped: {})", list.join(", "))
}
