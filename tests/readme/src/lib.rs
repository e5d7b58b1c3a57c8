//! The README's first snippets, compiled as written with exactly the dependencies the README
//! lists (this crate's `[dependencies]`), and run.

#[allow(missing_docs)]
mod readme {
    include!(concat!(env!("OUT_DIR"), "/snippets.rs"));

    #[cfg(test)]
    mod tests {
        #![allow(clippy::unwrap_used)]

        use std::sync::Arc;

        use super::*;

        #[tokio::test]
        async fn the_weather_tool_works() {
            let agent = Weather.into_agent().unwrap();
            assert_eq!(agent.tools().names().collect::<Vec<_>>(), ["lookup_weather"]);
            let tools = Arc::new(Weather).function_tools();
            let ctx = RunContext::new(FunctionCall::new("call_1", "lookup_weather", ""));
            let arguments = r#"{"location": "Paris, France", "unit": "fahrenheit"}"#;
            let output = tools[0].invoke(ctx, arguments).await.unwrap();
            assert_eq!(output.output, "It is sunny and 70 °F in Paris, France.");
        }
    }
}

pub use readme::snippets;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    /// The dependency lines of the first `[dependencies]` table in `text`, as
    /// `(name, specification)` with comments removed.
    fn dependencies(text: &str) -> Vec<(String, String)> {
        text.lines()
            .skip_while(|line| line.trim() != "[dependencies]")
            .skip(1)
            .take_while(|line| !line.trim_start().starts_with('[') && !line.starts_with("```"))
            .filter_map(|line| {
                let line = line.split('#').next().unwrap_or_default().trim();
                let (name, spec) = line.split_once('=')?;
                Some((name.trim().to_owned(), spec.trim().to_owned()))
            })
            .collect()
    }

    #[test]
    fn dependencies_match_the_readme() {
        let readme = dependencies(include_str!("../../../README.md"));
        let manifest = dependencies(include_str!("../Cargo.toml"));
        let names = |deps: &[(String, String)]| -> Vec<String> {
            deps.iter().map(|(name, _)| name.clone()).collect()
        };
        assert_eq!(names(&readme), names(&manifest), "the README lists other dependencies");
        for ((name, documented), (_, used)) in readme.iter().zip(&manifest) {
            if name != "agents-core" {
                assert_eq!(documented, used, "`{name}` differs from the README");
            }
        }
        assert_eq!(names(&readme), ["agents-core", "serde", "schemars", "rand"]);
    }

    #[tokio::test]
    async fn the_snippets_run() {
        super::snippets().await.unwrap();
    }
}
