//! `Installer`: the set-up path of `download-files` and `cargo xtask test`, with a fake
//! library in a real wheel served to the real pip from a local folder.
#![cfg(all(target_os = "linux", target_arch = "x86_64", feature = "download"))]
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use agents_runtime_libs::{
    Artifact, DownloadError, Installed, Installer, LIVEKIT_FFI, RuntimeLibrary, VersionRule,
};
use common::*;

/// An installer into `cache` that sees only the wheels in `index` (and pip's own settings).
fn installer(cache: &Path, index: &Path) -> Installer {
    Installer::new().cache_dir(cache).quiet(true).pip_args([
        "--no-index".into(),
        "--find-links".into(),
        index.as_os_str().to_owned(),
        // Not the machine's pip cache: each test sees only its folder.
        "--no-cache-dir".into(),
    ])
}

struct Fixture {
    root: PathBuf,
    cache: PathBuf,
    index: PathBuf,
    library: Vec<u8>,
    wheel: Vec<u8>,
}

fn fixture(name: &str) -> Fixture {
    let root = scratch(name);
    let (cache, index) = (root.join("cache"), root.join("index"));
    std::fs::create_dir_all(&index).unwrap();
    let library = library_bytes(300_000, 7);
    let wheel = write_wheel(&index, &library);
    Fixture { root, cache, index, library, wheel }
}

impl Fixture {
    fn pinned(&self) -> &'static RuntimeLibrary {
        fake_library(
            &sha256_hex(&self.wheel),
            &sha256_hex(&self.library),
            self.library.len() as u64,
        )
    }

    fn destination(&self) -> PathBuf {
        self.cache.join("lkfakelib-1.0.0").join("liblkfake.so")
    }
}

#[test]
fn an_empty_cache_gets_the_library_and_a_second_run_downloads_nothing() {
    let f = fixture("fresh");
    let library = f.pinned();
    let mut progress = Vec::new();
    let installed = installer(&f.cache, &f.index).install(library, &mut progress).unwrap();
    assert_eq!(installed, Installed::Downloaded(f.destination()));
    assert_eq!(std::fs::read(f.destination()).unwrap(), f.library);
    // Nothing else is left in the cache: no wheel, no scratch folder, no temporary file.
    assert_eq!(tree(&f.cache), ["lkfakelib-1.0.0/", "lkfakelib-1.0.0/liblkfake.so"]);
    let progress = String::from_utf8(progress).unwrap();
    assert!(progress.contains(&format!("downloading {WHEEL} with pip")), "{progress}");
    assert!(progress.contains("installed at"), "{progress}");

    // The wheel is gone from the index: a second run must not need it.
    std::fs::remove_file(f.index.join(WHEEL)).unwrap();
    let mut progress = Vec::new();
    let again = installer(&f.cache, &f.index).install(library, &mut progress).unwrap();
    assert_eq!(again, Installed::Cached(f.destination()));
    let progress = String::from_utf8(progress).unwrap();
    assert!(progress.contains("Fake Lib 1.0.0: already installed at"), "{progress}");
    assert!(!progress.contains("downloading"), "{progress}");
    // `ensure` finds it in the cache too, and downloads nothing.
    let ensured = installer(&f.cache, &f.index).ensure(library, &mut Vec::new()).unwrap();
    assert_eq!(ensured, Installed::Cached(f.destination()));
    std::fs::remove_dir_all(&f.root).unwrap();
}

#[test]
fn a_damaged_cached_copy_is_replaced() {
    let f = fixture("damaged");
    let library = f.pinned();
    installer(&f.cache, &f.index).install(library, &mut Vec::new()).unwrap();
    for damage in [f.library[..1000].to_vec(), vec![0u8; f.library.len()]] {
        std::fs::write(f.destination(), &damage).unwrap();
        let mut progress = Vec::new();
        let installed = installer(&f.cache, &f.index).install(library, &mut progress).unwrap();
        assert_eq!(installed, Installed::Downloaded(f.destination()));
        assert_eq!(std::fs::read(f.destination()).unwrap(), f.library);
        let progress = String::from_utf8(progress).unwrap();
        assert!(progress.contains("is damaged; replacing it"), "{progress}");
    }
    std::fs::remove_dir_all(&f.root).unwrap();
}

#[test]
fn a_wrong_library_checksum_installs_nothing() {
    let f = fixture("checksum");
    let wrong = sha256_hex(b"another build");
    let library = fake_library(&sha256_hex(&f.wheel), &wrong, f.library.len() as u64);
    let error = installer(&f.cache, &f.index).install(library, &mut Vec::new()).unwrap_err();
    assert!(matches!(error, DownloadError::LibraryChecksum { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(&format!("the library `{MEMBER}` in the wheel is not the pinned build")),
        "{message}"
    );
    assert!(message.contains(&format!("expected sha256 {wrong}")), "{message}");
    assert!(message.contains("nothing was installed"), "{message}");
    assert!(message.contains(&f.destination().display().to_string()), "{message}");
    assert_eq!(tree(&f.cache), ["lkfakelib-1.0.0/"]);

    // Another size than the pinned one: refused before inflating.
    let library = fake_library(&sha256_hex(&f.wheel), &sha256_hex(&f.library), 1234);
    let error = installer(&f.cache, &f.index).install(library, &mut Vec::new()).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("(300000 bytes; expected 1234 bytes)"), "{message}");
    assert_eq!(tree(&f.cache), ["lkfakelib-1.0.0/"]);
    std::fs::remove_dir_all(&f.root).unwrap();
}

#[test]
fn a_corrupt_or_truncated_wheel_is_refused() {
    let f = fixture("corrupt");
    let library = f.pinned();
    // Cut short in transit: pip itself refuses it, and the error says what to fetch by hand.
    std::fs::write(f.index.join(WHEEL), &f.wheel[..f.wheel.len() / 2]).unwrap();
    let error = installer(&f.cache, &f.index).install(library, &mut Vec::new()).unwrap_err();
    assert!(matches!(error, DownloadError::PipFailed { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("is invalid"), "{message}");
    assert!(message.contains(&format!("put it at `{}`", f.destination().display())), "{message}");
    assert_eq!(tree(&f.cache), ["lkfakelib-1.0.0/"]);

    // Damaged inside the library's data, which pip does not read: the wheel's sha256 gives
    // it away.
    let mut damaged = f.wheel.clone();
    let middle = damaged.len() / 2;
    for byte in &mut damaged[middle..middle + 64] {
        *byte ^= 0x5a;
    }
    std::fs::write(f.index.join(WHEEL), &damaged).unwrap();
    let error = installer(&f.cache, &f.index).install(library, &mut Vec::new()).unwrap_err();
    assert!(matches!(error, DownloadError::WheelChecksum { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(&format!("the downloaded `{WHEEL}` is damaged or not the pinned build")),
        "{message}"
    );
    assert!(message.contains(&format!("its sha256 is {}", sha256_hex(&damaged))), "{message}");
    // What to download and where to put it.
    assert!(message.contains("https://pypi.org/project/lkfakelib/1.0.0/#files"), "{message}");
    assert!(message.contains(&format!("take `{MEMBER}` out of it")), "{message}");
    assert!(message.contains(&format!("put it at `{}`", f.destination().display())), "{message}");
    assert!(message.contains("or set LKFAKE_LIB_PATH to it"), "{message}");
    assert_eq!(tree(&f.cache), ["lkfakelib-1.0.0/"]);

    // The damaged wheel pinned as if it were right: the library inside still fails (the
    // inflater or the library's sha256 catches it), and nothing is installed.
    let library =
        fake_library(&sha256_hex(&damaged), &sha256_hex(&f.library), f.library.len() as u64);
    let error = installer(&f.cache, &f.index).install(library, &mut Vec::new()).unwrap_err();
    assert!(
        matches!(error, DownloadError::BadWheel { .. } | DownloadError::LibraryChecksum { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("Instead: download"), "{error}");
    assert_eq!(tree(&f.cache), ["lkfakelib-1.0.0/"]);
    std::fs::remove_dir_all(&f.root).unwrap();
}

#[test]
fn an_offline_or_refused_download_says_what_to_fetch_and_where_to_put_it() {
    let f = fixture("offline");
    let library = f.pinned();
    let empty = f.root.join("empty-index");
    std::fs::create_dir_all(&empty).unwrap();
    let error = installer(&f.cache, &empty).install(library, &mut Vec::new()).unwrap_err();
    assert!(matches!(error, DownloadError::PipFailed { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with("pip could not download Fake Lib 1.0.0 (exit status: 1)"),
        "{message}"
    );
    // pip's own reason, captured.
    assert!(message.contains("lkfakelib==1.0.0"), "{message}");
    assert!(
        message.contains(&format!("download `{WHEEL}` (sha256 {})", sha256_hex(&f.wheel))),
        "{message}"
    );
    assert!(message.contains(&format!("put it at `{}`", f.destination().display())), "{message}");
    assert_eq!(tree(&f.cache), ["lkfakelib-1.0.0/"]);

    let error = installer(&f.cache, &f.index)
        .python("/nonexistent/python3")
        .install(library, &mut Vec::new())
        .unwrap_err();
    assert!(matches!(error, DownloadError::NoPip { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.starts_with("cannot run `/nonexistent/python3 -m pip`"), "{message}");
    assert!(message.contains("install Python 3 with pip, or download"), "{message}");
    std::fs::remove_dir_all(&f.root).unwrap();
}

#[test]
fn an_unwritable_cache_is_a_clear_error_before_any_download() {
    let f = fixture("unwritable");
    let library = f.pinned();
    // A file where the cache folder should be: not writable even for root.
    let blocked = f.root.join("a-file");
    std::fs::write(&blocked, b"").unwrap();
    let cache = blocked.join("cache");
    let empty = f.root.join("empty-index");
    std::fs::create_dir_all(&empty).unwrap();
    // With an empty index, getting past the cache check would be a pip error instead.
    let error = installer(&cache, &empty).install(library, &mut Vec::new()).unwrap_err();
    assert!(matches!(error, DownloadError::CacheNotWritable { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains(&format!("cannot write to the cache folder `{}", cache.display())),
        "{message}"
    );
    assert!(
        message.contains("set LIVEKIT_AGENTS_CACHE_DIR to a folder you can write"),
        "{message}"
    );
    std::fs::remove_dir_all(&f.root).unwrap();
}

#[test]
fn a_platform_without_a_pinned_build_says_what_to_do() {
    let root = scratch("platform");
    const ELSEWHERE: &[Artifact] =
        &[Artifact { os: "plan9", arch: "mips", ..LIVEKIT_FFI.artifacts[0] }];
    static LIBRARY: RuntimeLibrary =
        RuntimeLibrary { artifacts: ELSEWHERE, accepts: VersionRule::Exactly, ..LIVEKIT_FFI };
    let error = Installer::new().cache_dir(&root).install(&LIBRARY, &mut Vec::new()).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, DownloadError::UnsupportedPlatform { .. }), "{error:?}");
    assert!(
        message.starts_with(&format!(
            "there is no pinned build of livekit-ffi 1.2.1 for {}/{} (only for plan9/mips)",
            std::env::consts::OS,
            std::env::consts::ARCH
        )),
        "{message}"
    );
    assert!(message.contains("`pip install livekit==1.2.1`"), "{message}");
    assert!(message.contains("set LIVEKIT_LIB_PATH to its library file"), "{message}");
    assert_eq!(tree(&root), Vec::<String>::new());
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn an_interrupted_downloads_leftovers_are_removed_by_the_next_install() {
    let f = fixture("leftovers");
    let library = f.pinned();
    let folder = f.cache.join("lkfakelib-1.0.0");
    // A process that is gone: its id, once it has been waited for.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    // Interrupted (Ctrl+C while pip ran): the scratch folder with a partial wheel stays.
    let interrupted = folder.join(format!(".download-{gone_pid}-123456789"));
    std::fs::create_dir_all(&interrupted).unwrap();
    std::fs::write(interrupted.join(WHEEL), &f.wheel[..f.wheel.len() / 2]).unwrap();
    // A live process's (this one's, in another thread) download, just started: kept.
    let running = folder.join(format!(".download-{}-42", std::process::id()));
    std::fs::create_dir_all(&running).unwrap();
    std::fs::write(running.join(WHEEL), b"partial").unwrap();
    // A live process id, but two hours old: the id was reused, the folder is left over.
    let old = folder.join(".download-1-7");
    std::fs::create_dir_all(&old).unwrap();
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    std::fs::File::open(&old).unwrap().set_modified(two_hours_ago).unwrap();
    // Not a scratch folder: left alone.
    std::fs::create_dir_all(folder.join(".download-notes")).unwrap();

    let mut progress = Vec::new();
    let installed = installer(&f.cache, &f.index).install(library, &mut progress).unwrap();
    assert_eq!(installed, Installed::Downloaded(f.destination()));
    let progress = String::from_utf8(progress).unwrap();
    assert!(
        progress.contains(&format!(
            "removed {}, left by an interrupted download",
            interrupted.display()
        )),
        "{progress}"
    );
    assert_eq!(
        tree(&f.cache),
        [
            "lkfakelib-1.0.0/".to_owned(),
            format!("lkfakelib-1.0.0/.download-{}-42/", std::process::id()),
            format!("lkfakelib-1.0.0/.download-{}-42/{WHEEL}", std::process::id()),
            "lkfakelib-1.0.0/.download-notes/".to_owned(),
            "lkfakelib-1.0.0/liblkfake.so".to_owned(),
        ]
    );
    std::fs::remove_dir_all(&f.root).unwrap();
}
