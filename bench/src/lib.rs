//! Benchmarks of LiveKit Agents for Rust. Not published.
//!
//! The benchmarks themselves are in `benches/` (run them with `cargo bench -p agents-bench`;
//! results and how to read them are in `BENCHMARKS.md` at the workspace root):
//!
//! * `tools.rs` (divan): the tool machinery — building tools and sets, swapping an agent's
//!   tools, invoking a tool.
//! * `turn.rs` (divan): one user turn of an `AgentSession` in text against an in-process model.
//! * `session_turns.rs` (plain binary): per-turn CPU and latency tables of session turns,
//!   in process and over loopback HTTP, and their growth over 1000 turns.
//!
//! This library holds the fixtures they share: the argument and output types, the tool bodies,
//! builders for the 50-tool sets, a type with `#[function_tools]` methods, and the
//! hand-written *baseline* of a tool call (parse the arguments, run the body, format the
//! output — no framework); the session turn's model and agent ([`turn`]); CPU clocks and
//! summaries ([`measure`]); and the virtual environment of the Python side-by-sides
//! ([`python`]). Keeping them here lets the unit tests check that the benchmarks
//! measure what they claim: the framework's output and the baseline's are the same text, and a
//! benchmarked turn makes the calls it should.
//!
//! Every tool body is trivial on purpose, so that a benchmark of a call measures the framework
//! around the body, and `framework − baseline` is the framework's overhead.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub mod measure;
pub mod python;
pub mod turn;

use agents_core::llm::ToolDefinitionError;
use agents_core::prelude::*;

/// How many tools the "large" tool sets hold.
pub const TOOL_COUNT: usize = 50;

/// The argument text of every benchmarked call, as a model would send it.
pub const ARGUMENTS: &str = r#"{"location":"Paris, France","days":3}"#;

/// The description of the generated tools.
pub const DESCRIPTION: &str = "Get the weather forecast for a location.";

/// The arguments of the weather tools.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct WeatherArgs {
    /// City and country, e.g. "Paris, France".
    pub location: String,
    /// Number of days to forecast.
    pub days: u8,
}

/// A small structured tool output, rendered as JSON.
#[derive(Debug, Serialize)]
pub struct Forecast {
    /// Where.
    pub location: String,
    /// For how many days.
    pub days: u8,
    /// Highest temperature, °C.
    pub high: i32,
    /// Lowest temperature, °C.
    pub low: i32,
}

/// The body of the text tool: a small `String`.
pub fn weather_text(location: &str, days: u8) -> String {
    format!("Sunny in {location} for the next {days} days")
}

/// The body of the JSON tool: a small `Serialize` struct.
pub fn weather_forecast(location: String, days: u8) -> Forecast {
    Forecast { location, days, high: 21, low: 12 }
}

/// A tool returning a small `String`, for [`function_tool()`].
pub async fn get_weather(args: WeatherArgs) -> String {
    weather_text(&args.location, args.days)
}

/// A tool returning a small `Serialize` struct through [`Json`], for [`function_tool()`].
pub async fn get_forecast(args: WeatherArgs) -> Json<Forecast> {
    Json(weather_forecast(args.location, args.days))
}

/// The names of the tools of a large set: `get_weather_00` … `get_weather_49`.
pub fn tool_names() -> Vec<String> {
    (0..TOOL_COUNT).map(|index| format!("get_weather_{index:02}")).collect()
}

/// One [`get_weather`] tool per name, built with [`function_tool()`] (schemas included).
pub fn build_tools(names: &[String]) -> Result<Vec<FunctionTool>, ToolDefinitionError> {
    names.iter().map(|name| function_tool(get_weather, name.as_str(), DESCRIPTION)).collect()
}

/// The name of the tool of a large set that the set-level call benchmarks call (the middle one).
pub fn middle_tool_name() -> String {
    format!("get_weather_{:02}", TOOL_COUNT / 2)
}

/// A type whose tools are `#[function_tool]` methods.
#[derive(Debug, Default)]
pub struct WeatherAgent {
    calls: AtomicU64,
}

/// How many `#[function_tool]` methods [`WeatherAgent`] has.
pub const METHOD_TOOL_COUNT: usize = 4;

#[function_tools]
impl WeatherAgent {
    /// Get the weather for a location.
    #[function_tool]
    pub async fn get_weather(
        &self,
        #[arg(description = "City and country, e.g. \"Paris, France\".")] location: String,
        #[arg(description = "Number of days to forecast.")] days: u8,
    ) -> String {
        self.calls.fetch_add(1, Ordering::Relaxed);
        weather_text(&location, days)
    }

    /// Get a structured forecast for a location.
    #[function_tool]
    pub async fn get_forecast(
        &self,
        #[arg(description = "City and country, e.g. \"Paris, France\".")] location: String,
        #[arg(description = "Number of days to forecast.")] days: u8,
    ) -> Forecast {
        self.calls.fetch_add(1, Ordering::Relaxed);
        weather_forecast(location, days)
    }

    /// Get the local time in a time zone.
    #[function_tool]
    pub async fn get_time(
        &self,
        ctx: RunContext,
        #[arg(description = "IANA time zone, e.g. \"Europe/Paris\".")] timezone: String,
        #[arg(description = "Use a 24-hour clock (default: true).")] clock_24h: Option<bool>,
    ) -> String {
        let _ = &ctx;
        self.calls.fetch_add(1, Ordering::Relaxed);
        let clock = if clock_24h.unwrap_or(true) { "14:00" } else { "2:00 PM" };
        format!("{clock} in {timezone}")
    }

    /// How many tool calls this agent has answered.
    #[function_tool]
    pub async fn call_count(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}

/// The tools of a new [`WeatherAgent`].
pub fn method_tools() -> Vec<FunctionTool> {
    Arc::new(WeatherAgent::default()).function_tools()
}

/// Baseline of the text tool's call: what a hand-written dispatcher does, with no framework.
pub fn baseline_text(arguments: &str) -> Result<String, serde_json::Error> {
    let args: WeatherArgs = serde_json::from_str(arguments)?;
    Ok(weather_text(&args.location, args.days))
}

/// Baseline of the JSON tool's call: parse, run the body, serialize the output.
pub fn baseline_json(arguments: &str) -> Result<String, serde_json::Error> {
    let args: WeatherArgs = serde_json::from_str(arguments)?;
    serde_json::to_string(&weather_forecast(args.location, args.days))
}

#[cfg(test)]
mod tests {
    use agents_core::llm::FunctionCall;
    use futures::FutureExt;

    use super::*;

    fn call(tool: &FunctionTool) -> ToolOutput {
        let ctx = RunContext::new(FunctionCall::new("call_1", tool.name(), ARGUMENTS));
        tool.invoke(ctx, ARGUMENTS)
            .now_or_never()
            .expect("the tools never wait")
            .expect("the arguments are valid")
    }

    #[test]
    fn framework_and_baseline_agree() {
        let text = function_tool(get_weather, "get_weather", DESCRIPTION).expect("valid tool");
        let json = function_tool(get_forecast, "get_forecast", DESCRIPTION).expect("valid tool");
        assert_eq!(call(&text).output, baseline_text(ARGUMENTS).expect("valid arguments"));
        assert_eq!(call(&json).output, baseline_json(ARGUMENTS).expect("valid arguments"));

        let methods = method_tools();
        assert_eq!(call(&methods[0]).output, call(&text).output);
        assert_eq!(call(&methods[1]).output, call(&json).output);
    }

    #[test]
    fn fixtures_have_the_expected_shape() {
        let tools = build_tools(&tool_names()).expect("valid names");
        assert_eq!(tools.len(), TOOL_COUNT);
        // No tool pays for a "cannot be strict" warning in the benchmarks.
        assert!(tools.iter().all(|tool| tool.strict_parameters().is_some()));
        let set = ToolSet::new(tools).expect("unique names");
        assert!(set.contains(&middle_tool_name()));

        let methods = method_tools();
        assert_eq!(methods.len(), METHOD_TOOL_COUNT);
        assert!(methods.iter().all(|tool| tool.strict_parameters().is_some()));
        let ctx = RunContext::new(FunctionCall::new("call_2", "get_time", "{}"));
        let time = methods[2]
            .invoke(ctx, r#"{"timezone":"Europe/Paris","clock_24h":null}"#)
            .now_or_never()
            .expect("the tools never wait")
            .expect("valid arguments");
        assert_eq!(time.output, "14:00 in Europe/Paris");
    }
}
