//! The scratch folder an install downloads into, beside the library's final place, and the
//! removal of those an interrupted install left behind.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::download::DownloadError;

/// How scratch folders are named: `.download-<process id>-<nanoseconds>`.
const PREFIX: &str = ".download-";

/// A scratch folder older than this is left over, even if its process id is in use (ids
/// are reused, and no download takes an hour).
const STALE_AFTER: Duration = Duration::from_secs(60 * 60);

/// A scratch folder beside the destination, removed when dropped.
pub(crate) struct Staging {
    /// The folder.
    pub(crate) dir: PathBuf,
}

impl Staging {
    /// Creates a scratch folder in `folder`.
    pub(crate) fn new(folder: &Path) -> Result<Self, DownloadError> {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let dir = folder.join(format!("{PREFIX}{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir).map_err(|source| DownloadError::CacheNotWritable {
            dir: folder.to_path_buf(),
            source,
        })?;
        Ok(Self { dir })
    }

    /// Writes `contents` to a file here, then renames it to `destination` (same folder, so
    /// the rename is atomic).
    pub(crate) fn commit(&self, contents: &[u8], destination: &Path) -> Result<(), DownloadError> {
        let folder = destination.parent().unwrap_or(&self.dir);
        let not_writable =
            |source| DownloadError::CacheNotWritable { dir: folder.to_path_buf(), source };
        let temporary = self.dir.join("library.part");
        let mut file = std::fs::File::create(&temporary).map_err(not_writable)?;
        file.write_all(contents).map_err(not_writable)?;
        file.sync_all().map_err(not_writable)?;
        drop(file);
        std::fs::rename(&temporary, destination).map_err(not_writable)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Removes the scratch folders in `folder` that an interrupted install left (Ctrl+C while
/// pip ran: no `Drop`): those whose process is gone, and those older than an hour. Returns
/// the folders removed. Folders that cannot be read or removed are left alone: this is
/// tidying, never a reason to fail the install.
pub(crate) fn remove_leftovers(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else { return Vec::new() };
    let now = SystemTime::now();
    let mut removed = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(scratch_pid) else { continue };
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_dir() {
            continue;
        }
        let old = meta
            .modified()
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age > STALE_AFTER);
        if (old || process_gone(pid)) && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}

/// The process id in a scratch folder's name, if it is one.
fn scratch_pid(name: &str) -> Option<u32> {
    let (pid, nanos) = name.strip_prefix(PREFIX)?.split_once('-')?;
    nanos.parse::<u32>().ok()?;
    pid.parse().ok()
}

/// Whether no process has id `pid`, when that can be known (Linux's `/proc`); elsewhere
/// only age counts.
fn process_gone(pid: u32) -> bool {
    if pid == std::process::id() {
        return false;
    }
    let proc = Path::new("/proc");
    // Without a mounted /proc nothing can be told: assume the process lives.
    cfg!(target_os = "linux") && proc.join("self").exists() && !proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::scratch_pid;

    #[test]
    fn only_scratch_folder_names_are_recognised() {
        assert_eq!(scratch_pid(".download-4242-123456789"), Some(4242));
        assert_eq!(scratch_pid(".download-4242"), None);
        assert_eq!(scratch_pid(".download-x-1"), None);
        assert_eq!(scratch_pid("libonnxruntime.so.1.32.0"), None);
        assert_eq!(scratch_pid(".download-1-2-3"), None);
    }
}
