//! Every `cargo` command of the README and the guide names things that exist: packages
//! (`-p`), examples (`--example`), features (`--features`), `cargo xtask` tasks, and the agent
//! command given after `--`.

use std::collections::BTreeMap;

use super::markdown;
use super::workspace::{self, Package};

/// Info strings of blocks that hold shell commands.
const SHELL_BLOCKS: &[&str] = &["text", "sh", "bash", "shell", "console", ""];

/// The `cargo` commands of a document: lines of its shell blocks and its inline code.
fn cargo_commands(text: &str) -> Vec<String> {
    let block_lines = markdown::blocks(text)
        .into_iter()
        .filter(|block| SHELL_BLOCKS.contains(&block.info.as_str()))
        .flat_map(|block| block.body.lines().map(str::to_owned).collect::<Vec<_>>());
    block_lines
        .chain(markdown::inline_code(text))
        .map(|line| {
            let line = line.trim().trim_start_matches("$ ");
            line.split(" #").next().unwrap_or_default().trim().to_owned()
        })
        .filter(|line| line.starts_with("cargo "))
        .collect()
}

/// What the workspace offers commands.
struct Known {
    packages: BTreeMap<String, Package>,
    xtask: std::collections::BTreeSet<String>,
    agent_commands: std::collections::BTreeSet<String>,
}

/// Why `command` names something that does not exist, if it does.
fn check(known: &Known, command: &str) -> Result<(), String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let (options, rest) = match words.iter().position(|word| *word == "--") {
        Some(at) => (&words[1..at], Some(&words[at + 1..])),
        None => (&words[1..], None),
    };
    let mut options = options.iter().copied().filter(|word| !word.starts_with('+'));
    let mut subcommand = None;
    let (mut package, mut example, mut test, mut features) = (None, None, None, Vec::new());
    while let Some(word) = options.next() {
        match word {
            "-p" | "--package" => package = options.next(),
            "--example" => example = options.next(),
            "--test" => test = options.next(),
            "-F" | "--features" => features.extend(options.next()),
            word if word.starts_with("--features=") => features.push(&word[11..]),
            word if word.starts_with('-') => {}
            word if subcommand.is_none() => subcommand = Some(word),
            word if subcommand == Some("xtask") && !known.xtask.contains(word) => {
                return Err(format!("`cargo xtask {word}`: xtask has {:?}", known.xtask));
            }
            _ => {}
        }
    }
    let placeholder = |value: &str| value.contains('<');
    let package = match package.filter(|name| !placeholder(name)) {
        Some(name) => Some(
            workspace::package(&known.packages, name)
                .ok_or_else(|| format!("no package `{name}` in the workspace"))?,
        ),
        None => None,
    };
    let mut example_file = None;
    if let Some(name) = example.filter(|name| !placeholder(name)) {
        let candidates: Vec<&Package> = match package {
            Some(package) => vec![package],
            None => known.packages.values().collect(),
        };
        match candidates.iter().find_map(|p| Some((*p, p.examples.get(name)?))) {
            Some((package, file)) => example_file = Some(format!("{}/{file}", package.dir)),
            None => return Err(format!("no example `{name}`")),
        }
    }
    if let Some(name) = test.filter(|name| !placeholder(name)) {
        let candidates: Vec<&Package> = match package {
            Some(package) => vec![package],
            None => known.packages.values().collect(),
        };
        let exists = |p: &&Package| {
            workspace::root().join(&p.dir).join(format!("tests/{name}.rs")).is_file()
                || workspace::read(&format!("{}/Cargo.toml", p.dir))
                    .contains(&format!("name = \"{name}\""))
        };
        if !candidates.iter().any(exists) {
            return Err(format!("no test target `{name}`"));
        }
    }
    for feature in features.iter().flat_map(|list| list.split(',')) {
        let found = match (feature.split_once('/'), package) {
            (Some((owner, feature)), _) => workspace::package(&known.packages, owner)
                .is_some_and(|p| p.features.contains_key(feature)),
            (None, Some(package)) => package.features.contains_key(feature),
            (None, None) => known.packages.values().any(|p| p.features.contains_key(feature)),
        };
        if !found {
            return Err(format!("no feature `{feature}` there"));
        }
    }
    // The agent command after `--`: for an example that is an agent, or for the user's own
    // agent (`cargo run -- console`, the quick start).
    let is_agent = match (&example_file, example, package) {
        (Some(file), _, _) => workspace::read(file).contains("cli::run_app"),
        (None, None, None) => subcommand == Some("run"),
        _ => false,
    };
    let first = rest.and_then(|rest| rest.first()).filter(|_| is_agent);
    if let Some(first) = first
        && !known.agent_commands.contains(*first)
        && !["-h", "--help"].contains(first)
    {
        return Err(format!(
            "an agent has no command `{first}` (it has {:?})",
            known.agent_commands
        ));
    }
    Ok(())
}

fn known() -> Known {
    Known {
        packages: workspace::packages(),
        xtask: workspace::xtask_tasks(),
        agent_commands: workspace::agent_commands(),
    }
}

#[test]
fn commands_name_what_exists() {
    let known = known();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (path, text) in workspace::documents() {
        for command in cargo_commands(&text) {
            checked += 1;
            if let Err(why) = check(&known, &command) {
                wrong.push(format!("{path}: `{command}`: {why}"));
            }
        }
    }
    assert!(wrong.is_empty(), "commands that name what does not exist:\n{}", wrong.join("\n"));
    assert!(checked >= 20, "only {checked} cargo commands found in the documents");
}

#[test]
fn wrong_commands_are_caught() {
    let known = known();
    for wrong in [
        "cargo run -p voice-agents-nothing",
        "cargo run -p examples --example no_such_example -- console",
        "cargo run -p examples --features no-such-feature --example update_tools -- console",
        "cargo run -p examples --example update_tools -- consle --text",
        "cargo run -- donwload-files",
        "cargo xtask tset",
        "cargo test -p voice-agents-core --test no_such_test",
        "cargo test -p voice-agents-core --features voice-agents-core/nothing",
    ] {
        assert!(check(&known, wrong).is_err(), "`{wrong}` passed");
    }
    for right in [
        "cargo run -p examples --features audio-devices --example update_tools -- console",
        "cargo run --release --example vad_file -- speech.wav",
        "cargo test -p voice-agents-core --features testing --test room_io",
        "cargo --locked xtask test --locked",
        "cargo run -p examples --example <name> -- <command>",
    ] {
        assert_eq!(check(&known, right), Ok(()), "`{right}`");
    }
}
