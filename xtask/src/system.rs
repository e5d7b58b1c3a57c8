//! The system packages the tests build against, on Linux: ALSA's development files and
//! pkg-config (the audio console's tests, through cpal's `alsa-sys`), and cmake (the LiveKit
//! test server's Opus codec: the `opus` crate builds libopus with it), and strace (a job-host
//! test holds a replacement host's `exec` with it, to show the worker keeps answering).

use std::process::{Command, Stdio};

/// The Debian packages that provide what the tests build against.
const PACKAGES: [&str; 5] = ["libasound2-dev", "libasound2-data", "pkg-config", "cmake", "strace"];

/// The guide's section on the system packages, which every error here ends with.
const GUIDE: &str = "see docs/src/troubleshooting.md#system-packages";

/// Why the system packages are not there and cannot be installed from here.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SystemError {
    /// Missing, and not root: the user must run apt-get.
    #[error(
        "the tests need {what}, which this machine does not have; install {them} with \
         `sudo apt-get update && sudo apt-get install -y {packages}`, then run `cargo xtask \
         test` again ({GUIDE})"
    )]
    NotRoot {
        /// What is missing, for people.
        what: String,
        /// "it" or "them".
        them: &'static str,
        /// The packages.
        packages: String,
    },
    /// Missing, and no apt-get.
    #[error(
        "the tests need {what}, which this machine does not have, and it has no apt-get: \
         install them with its package manager (ALSA's development files are `alsa-lib-devel` \
         on Fedora, `alsa-lib` on Arch; then pkg-config), then run `cargo xtask test` again ({GUIDE})"
    )]
    NoApt {
        /// What is missing, for people.
        what: String,
    },
    /// apt-get failed (offline, a locked database, no such package).
    #[error(
        "`apt-get install {packages}` failed ({status}; offline?); run `sudo apt-get update && \
         sudo apt-get install -y {packages}` when it can, then `cargo xtask test` again ({GUIDE})"
    )]
    AptFailed {
        /// The packages.
        packages: String,
        /// apt-get's exit status.
        status: String,
    },
    /// Installed, yet pkg-config still does not find ALSA.
    #[error(
        "libasound2-dev is installed but `pkg-config --exists alsa` still fails; check \
         PKG_CONFIG_PATH, then run `cargo xtask test` again ({GUIDE})"
    )]
    StillMissing,
}

/// What this machine has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Machine {
    /// `pkg-config` runs.
    pub(crate) pkg_config: bool,
    /// `pkg-config --exists alsa` succeeds.
    pub(crate) alsa: bool,
    /// ALSA's configuration (`/usr/share/alsa/alsa.conf`, libasound2-data) is installed: the
    /// console's tests open ALSA devices.
    pub(crate) alsa_data: bool,
    /// `cmake` runs (libopus is built with it).
    pub(crate) cmake: bool,
    /// `strace` runs.
    pub(crate) strace: bool,
    /// The program runs as root.
    pub(crate) root: bool,
    /// `apt-get` runs.
    pub(crate) apt: bool,
}

/// What to do about the system packages.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Everything is there.
    Ready,
    /// Install these packages with apt-get.
    Install(Vec<&'static str>),
}

impl Machine {
    /// Looks at this machine.
    pub(crate) fn probe() -> Self {
        let runs = |program: &str, args: &[&str]| {
            Command::new(program)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        };
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.status.success() && out.stdout.trim_ascii() == b"0");
        Self {
            pkg_config: runs("pkg-config", &["--version"]),
            alsa: runs("pkg-config", &["--exists", "alsa"]),
            alsa_data: std::path::Path::new("/usr/share/alsa/alsa.conf").is_file(),
            cmake: runs("cmake", &["--version"]),
            strace: runs("strace", &["-V"]),
            root,
            apt: runs("apt-get", &["--version"]),
        }
    }

    /// What to install, or why it cannot be.
    pub(crate) fn plan(&self) -> Result<Plan, SystemError> {
        let missing: Vec<&'static str> = PACKAGES
            .into_iter()
            .filter(|package| match *package {
                "libasound2-dev" => !self.alsa,
                "libasound2-data" => !self.alsa_data,
                "cmake" => !self.cmake,
                "strace" => !self.strace,
                _ => !self.pkg_config,
            })
            .collect();
        if missing.is_empty() {
            return Ok(Plan::Ready);
        }
        let what = describe(&missing);
        if !self.apt {
            return Err(SystemError::NoApt { what });
        }
        if !self.root {
            let them = if missing.len() == 1 { "it" } else { "them" };
            return Err(SystemError::NotRoot { what, them, packages: missing.join(" ") });
        }
        Ok(Plan::Install(missing))
    }
}

/// Installs `packages` with apt-get, showing its output.
pub(crate) fn install(packages: &[&str]) -> Result<(), SystemError> {
    let failed = |status: String| SystemError::AptFailed { packages: packages.join(" "), status };
    eprintln!("xtask: apt-get install {}", packages.join(" "));
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .status()
            .map_err(|e| failed(e.to_string()))
    };
    let update = apt(&["update", "-qq"])?;
    if !update.success() {
        return Err(failed(format!("apt-get update: {update}")));
    }
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend_from_slice(packages);
    let status = apt(&args)?;
    if !status.success() {
        return Err(failed(status.to_string()));
    }
    if !Machine::probe().alsa {
        return Err(SystemError::StillMissing);
    }
    Ok(())
}

fn describe(missing: &[&str]) -> String {
    let parts: Vec<&str> = missing
        .iter()
        .map(|package| match *package {
            "libasound2-dev" => "ALSA's development files (libasound2-dev)",
            "libasound2-data" => "ALSA's configuration (libasound2-data)",
            "cmake" => "cmake (to build libopus)",
            "strace" => "strace (a job-host test slows `exec` with it)",
            _ => "pkg-config",
        })
        .collect();
    match parts.as_slice() {
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
        [] => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRESH: Machine = Machine {
        pkg_config: false,
        alsa: false,
        alsa_data: false,
        cmake: false,
        strace: false,
        root: true,
        apt: true,
    };

    #[test]
    fn a_ready_machine_needs_nothing() {
        let ready = Machine {
            pkg_config: true,
            alsa: true,
            alsa_data: true,
            cmake: true,
            strace: true,
            ..FRESH
        };
        assert_eq!(ready.plan().ok(), Some(Plan::Ready));
        let ready = Machine { root: false, apt: false, ..ready };
        assert_eq!(ready.plan().ok(), Some(Plan::Ready));
    }

    #[test]
    fn root_with_apt_installs_what_is_missing() {
        assert_eq!(
            FRESH.plan().ok(),
            Some(Plan::Install(vec![
                "libasound2-dev",
                "libasound2-data",
                "pkg-config",
                "cmake",
                "strace"
            ]))
        );
        let some =
            Machine { pkg_config: true, alsa_data: true, cmake: true, strace: true, ..FRESH };
        assert_eq!(some.plan().ok(), Some(Plan::Install(vec!["libasound2-dev"])));
    }

    #[test]
    fn without_rights_it_stops_with_the_exact_command() {
        let user = Machine { root: false, ..FRESH };
        let message = user.plan().err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            message,
            "the tests need ALSA's development files (libasound2-dev), ALSA's configuration \
             (libasound2-data), pkg-config, cmake (to build libopus) and strace (a job-host test \
             slows `exec` with it), which this machine does not have; install them with `sudo \
             apt-get update && sudo apt-get install -y libasound2-dev libasound2-data pkg-config \
             cmake strace`, then run `cargo xtask test` again (see \
             docs/src/troubleshooting.md#system-packages)"
        );
        let user = Machine { pkg_config: true, alsa_data: true, cmake: true, strace: true, ..user };
        let message = user.plan().err().map(|e| e.to_string()).unwrap_or_default();
        // A fresh image's package lists are empty: `apt-get update` first, or "Unable to
        // locate package".
        assert!(
            message.contains(
                "install it with `sudo apt-get update && sudo apt-get install -y libasound2-dev`"
            ),
            "{message}"
        );
    }

    #[test]
    fn without_apt_it_names_the_packages_of_other_systems() {
        let other = Machine {
            apt: false,
            pkg_config: true,
            alsa_data: true,
            cmake: true,
            strace: true,
            ..FRESH
        };
        let message = other.plan().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.starts_with(
            "the tests need ALSA's development files (libasound2-dev), which this machine does \
             not have, and it has no apt-get"
        ));
        assert!(message.contains("`alsa-lib-devel` on Fedora"));
    }
}
