//! Benchmarks of function tools, tool sets and the agent's live tool set (divan).
//!
//! Run with `cargo bench -p agents-bench` (add `-- invoke` etc. to run one group). Results,
//! machine and targets are in `BENCHMARKS.md` at the workspace root.
//!
//! Groups:
//!
//! * `build`: building a 50-tool set — validating 50 ready tools into a [`ToolSet`], building
//!   50 tools with [`function_tool()`] (schema and strict schema computed per tool), and
//!   `Arc<T>::function_tools()` for a type with `#[function_tools]` methods. `build::schema`
//!   breaks the per-tool cost down.
//! * `agent`: [`Agent::update_tools`] with a prebuilt set (a pure swap) and with a list of 50
//!   tools (validation + swap), and the [`Agent::tools`] snapshot taken per LLM request.
//! * `invoke`: one tool call from argument text to output text, through
//!   [`FunctionTool::invoke`] and [`ToolSet::invoke`], next to `baseline_*` benchmarks doing the
//!   same work by hand (`serde_json::from_str::<Args>`, the body, the output formatting). The
//!   framework's overhead is `invoke − baseline`; `invoke::breakdown` splits it up.
//!
//! Every tool completes without waiting, so futures are driven with `now_or_never` (one poll,
//! no executor); `*_block_on` variants show what `futures::executor::block_on` adds. Values a
//! benchmark returns are dropped outside the timed region (divan defers the drop); inputs made
//! with `with_inputs` are built outside it too.

use std::sync::Arc;

use agents_bench::{
    ARGUMENTS, DESCRIPTION, METHOD_TOOL_COUNT, TOOL_COUNT, WeatherAgent, WeatherArgs,
    baseline_json, baseline_text, build_tools, get_forecast, get_weather, method_tools,
    middle_tool_name, tool_names,
};
use agents_core::llm::schema::{parameters_schema, to_strict};
use agents_core::prelude::*;
use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use futures::FutureExt;

/// Runs the benchmarks with 500 samples each (CLI flags such as `--sample-count` override it).
///
/// Sub-microsecond benchmarks set a fixed `sample_size` (iterations per sample) so that a sample
/// lasts well beyond the 10 ns timer precision; divan's own tuning stops at 1 iteration when the
/// first, cold iteration happens to be slow, which quantizes the figures.
fn main() {
    divan::Divan::default().sample_count(500).config_with_args().main();
}

/// 50 [`get_weather`] tools named `get_weather_00` … `get_weather_49`.
fn fifty_tools() -> Vec<FunctionTool> {
    build_tools(&tool_names()).expect("the generated names are valid tool names")
}

/// The 50 tools as a validated set.
fn fifty_tool_set() -> ToolSet {
    ToolSet::new(fifty_tools()).expect("the generated names are unique")
}

/// Drives a future that completes on its first poll (all benchmarked tools do).
fn ready<T>(future: impl Future<Output = T>) -> T {
    future.now_or_never().expect("the benchmarked futures complete without waiting")
}

/// Building tools and tool sets.
mod build {
    use super::*;

    /// `ToolSet::new` over 50 already-built tools: the validation (unique names) and indexing
    /// cost alone. The input `Vec` (50 `Arc` clones) is made outside the timed region.
    #[divan::bench(sample_size = 32)]
    fn tool_set_new_50(bencher: Bencher<'_, '_>) {
        let tools = fifty_tools();
        bencher
            .counter(ItemsCount::new(TOOL_COUNT))
            .with_inputs(|| tools.clone())
            .bench_local_values(|tools| ToolSet::new(tools).expect("unique names"));
    }

    /// 50 × `function_tool(get_weather, name, description)`, each computing its parameters
    /// schema and strict rendering. The names are made beforehand (`&str` → `String` per tool is
    /// measured, as a caller passing `&str` pays it).
    #[divan::bench]
    fn function_tool_50(bencher: Bencher<'_, '_>) {
        let names = tool_names();
        bencher
            .counter(ItemsCount::new(TOOL_COUNT))
            .bench_local(|| build_tools(black_box(&names)).expect("valid names"));
    }

    /// One `function_tool(...)`: the per-tool cost of [`function_tool_50`].
    #[divan::bench(sample_size = 16)]
    fn function_tool_1() -> FunctionTool {
        function_tool(get_weather, black_box("get_weather"), DESCRIPTION).expect("valid name")
    }

    /// 50 tools built and validated into a set: what `Agent::new(..).with_tools(vec![...])`
    /// costs for a 50-tool agent.
    #[divan::bench]
    fn function_tool_50_into_set(bencher: Bencher<'_, '_>) {
        let names = tool_names();
        bencher.counter(ItemsCount::new(TOOL_COUNT)).bench_local(|| {
            ToolSet::new(build_tools(black_box(&names)).expect("valid names"))
                .expect("unique names")
        });
    }

    /// `Arc<WeatherAgent>::function_tools()`: the 4 tools of `#[function_tools]` methods
    /// (schemas computed each call); the counter gives the per-tool cost.
    #[divan::bench(sample_size = 4)]
    fn method_function_tools(bencher: Bencher<'_, '_>) {
        let agent = Arc::new(WeatherAgent::default());
        bencher
            .counter(ItemsCount::new(METHOD_TOOL_COUNT))
            .bench_local(|| black_box(&agent).function_tools());
    }

    /// Where a tool's build time goes.
    mod schema {
        use super::*;

        /// The canonical parameters schema of `WeatherArgs` (schemars + clean-up).
        #[divan::bench(sample_size = 32)]
        fn parameters_schema_only() -> serde_json::Value {
            parameters_schema::<WeatherArgs>()
        }

        /// The strict rendering of that schema (a clone, then rewritten).
        #[divan::bench(sample_size = 32)]
        fn to_strict_only(bencher: Bencher<'_, '_>) {
            let schema = parameters_schema::<WeatherArgs>();
            bencher.bench_local(|| to_strict(black_box(&schema)).expect("strict-compatible"));
        }
    }
}

/// The agent's live tool set.
mod agent {
    use super::*;

    /// `update_tools` with a prebuilt `ToolSet`: no validation, an atomic pointer swap (plus
    /// an `Arc` clone of the set and the release of the replaced one, which stays alive).
    #[divan::bench(sample_size = 1000)]
    fn update_tools_prebuilt(bencher: Bencher<'_, '_>) {
        let set = fifty_tool_set();
        let agent = Agent::new("You are a weather bot.");
        bencher.bench_local(|| {
            ready(agent.update_tools(set.clone())).expect("a valid set");
        });
    }

    /// The same, driven by `futures::executor::block_on` instead of a single poll.
    #[divan::bench(sample_size = 1000)]
    fn update_tools_prebuilt_block_on(bencher: Bencher<'_, '_>) {
        let set = fifty_tool_set();
        let agent = Agent::new("You are a weather bot.");
        bencher.bench_local(|| {
            futures::executor::block_on(agent.update_tools(set.clone())).expect("a valid set");
        });
    }

    /// `update_tools` with a `Vec` of 50 tools: validation + swap. The replaced set was built
    /// by the previous iteration and is freed inside the timed region (its last reference
    /// goes), as it would be in an application. The input `Vec` is made outside it.
    #[divan::bench(sample_size = 32)]
    fn update_tools_vec_50(bencher: Bencher<'_, '_>) {
        let tools = fifty_tools();
        let agent = Agent::new("You are a weather bot.");
        bencher
            .counter(ItemsCount::new(TOOL_COUNT))
            .with_inputs(|| tools.clone())
            .bench_local_values(|tools| {
                ready(agent.update_tools(tools)).expect("unique names");
            });
    }

    /// `agent.tools()`: the snapshot every LLM request takes (its drop is not timed).
    #[divan::bench(sample_size = 2000)]
    fn tools_snapshot(bencher: Bencher<'_, '_>) {
        let agent = Agent::new("You are a weather bot.")
            .with_tools(fifty_tool_set())
            .expect("unique names");
        bencher.bench_local(|| black_box(&agent).tools());
    }

    /// `agent.tools()` and dropping the snapshot: the full per-request cost.
    #[divan::bench(sample_size = 2000)]
    fn tools_snapshot_and_drop(bencher: Bencher<'_, '_>) {
        let agent = Agent::new("You are a weather bot.")
            .with_tools(fifty_tool_set())
            .expect("unique names");
        bencher.bench_local(|| drop(black_box(black_box(&agent).tools())));
    }
}

/// One tool call, from the model's argument text to the output text.
mod invoke {
    use super::*;

    fn context(tool: &str) -> RunContext {
        RunContext::new(FunctionCall::new("call_1", tool, ARGUMENTS))
    }

    fn call(tool: &FunctionTool, ctx: &RunContext) -> ToolOutput {
        ready(tool.invoke(ctx.clone(), black_box(ARGUMENTS))).expect("valid arguments")
    }

    /// By hand: `serde_json::from_str::<WeatherArgs>` + the body (a small `String`).
    #[divan::bench(sample_size = 256)]
    fn baseline_text_tool() -> String {
        baseline_text(black_box(ARGUMENTS)).expect("valid arguments")
    }

    /// By hand: `serde_json::from_str::<WeatherArgs>` + the body + `serde_json::to_string` of
    /// the small `Forecast` struct.
    #[divan::bench(sample_size = 256)]
    fn baseline_json_tool() -> String {
        baseline_json(black_box(ARGUMENTS)).expect("valid arguments")
    }

    /// `FunctionTool::invoke` of a `function_tool` returning a small `String`.
    #[divan::bench(sample_size = 128)]
    fn function_tool_text(bencher: Bencher<'_, '_>) {
        let tool = function_tool(get_weather, "get_weather", DESCRIPTION).expect("valid tool");
        let ctx = context("get_weather");
        bencher.bench_local(|| call(&tool, &ctx));
    }

    /// `FunctionTool::invoke` of a `function_tool` returning `Json(Forecast { .. })`.
    #[divan::bench(sample_size = 64)]
    fn function_tool_json(bencher: Bencher<'_, '_>) {
        let tool = function_tool(get_forecast, "get_forecast", DESCRIPTION).expect("valid tool");
        let ctx = context("get_forecast");
        bencher.bench_local(|| call(&tool, &ctx));
    }

    /// The text tool driven by `futures::executor::block_on` instead of a single poll.
    #[divan::bench(sample_size = 128)]
    fn function_tool_text_block_on(bencher: Bencher<'_, '_>) {
        let tool = function_tool(get_weather, "get_weather", DESCRIPTION).expect("valid tool");
        let ctx = context("get_weather");
        bencher.bench_local(|| {
            futures::executor::block_on(tool.invoke(ctx.clone(), black_box(ARGUMENTS)))
                .expect("valid arguments")
        });
    }

    /// `FunctionTool::invoke` of the `#[function_tool]` method returning a `String`.
    #[divan::bench(sample_size = 128)]
    fn method_tool_text(bencher: Bencher<'_, '_>) {
        let tools = method_tools();
        let ctx = context("get_weather");
        bencher.bench_local(|| call(&tools[0], &ctx));
    }

    /// `FunctionTool::invoke` of the `#[function_tool]` method returning a `Serialize` struct.
    #[divan::bench(sample_size = 64)]
    fn method_tool_json(bencher: Bencher<'_, '_>) {
        let tools = method_tools();
        let ctx = context("get_forecast");
        bencher.bench_local(|| call(&tools[1], &ctx));
    }

    /// `ToolSet::invoke` in the 50-tool set: lookup by name, then as `function_tool_text`.
    #[divan::bench(sample_size = 128)]
    fn tool_set_text_50(bencher: Bencher<'_, '_>) {
        let set = fifty_tool_set();
        let ctx = context(&middle_tool_name());
        bencher.bench_local(|| ready(set.invoke(black_box(&ctx).clone())).expect("valid call"));
    }

    /// Where the framework's time goes, step by step.
    mod breakdown {
        use super::*;

        /// `FunctionTool::parse_arguments`: text → `serde_json::Value` (map allocation,
        /// `preserve_order`) + the null scan.
        #[divan::bench(sample_size = 256)]
        fn parse_arguments(bencher: Bencher<'_, '_>) {
            let tool = function_tool(get_weather, "get_weather", DESCRIPTION).expect("valid tool");
            bencher.bench_local(|| tool.parse_arguments(black_box(ARGUMENTS)).expect("valid"));
        }

        /// The framework's two-step decoding done by hand: `from_str::<Value>` then
        /// `from_value::<WeatherArgs>` (versus `from_str::<WeatherArgs>` in the baseline).
        #[divan::bench(sample_size = 256)]
        fn value_then_args() -> WeatherArgs {
            let value: serde_json::Value =
                serde_json::from_str(black_box(ARGUMENTS)).expect("valid JSON");
            serde_json::from_value(value).expect("valid arguments")
        }

        /// `from_str::<Value>` alone: the first half of `value_then_args`.
        #[divan::bench(sample_size = 256)]
        fn value_only() -> serde_json::Value {
            serde_json::from_str(black_box(ARGUMENTS)).expect("valid JSON")
        }

        /// The lenient path's steps done in line, without futures, boxing, `catch_unwind` or
        /// the `RunContext`: `parse_arguments`, `from_value::<WeatherArgs>`, the body,
        /// `ToolOutput::text`. `invoke` takes this path only for arguments that are not a plain
        /// JSON object without `null`s.
        #[divan::bench(sample_size = 128)]
        fn steps_without_futures(bencher: Bencher<'_, '_>) {
            let tool = function_tool(get_weather, "get_weather", DESCRIPTION).expect("valid tool");
            bencher.bench_local(|| {
                let value = tool.parse_arguments(black_box(ARGUMENTS)).expect("valid");
                let args: WeatherArgs = serde_json::from_value(value).expect("valid arguments");
                ToolOutput::text(agents_bench::weather_text(&args.location, args.days))
            });
        }

        /// One boxed, immediately ready future polled once: the unit of the async plumbing
        /// (a tool call boxes two, the handler's and the panic-catching wrapper).
        #[divan::bench(sample_size = 2000)]
        fn boxed_ready_future() -> u64 {
            ready(async { black_box(7_u64) }.boxed())
        }

        /// `from_str::<WeatherArgs>` alone (the baseline's decoding, without the body).
        #[divan::bench(sample_size = 256)]
        fn args_only() -> WeatherArgs {
            serde_json::from_str(black_box(ARGUMENTS)).expect("valid arguments")
        }

        /// `ToolOutput::json`, the route of `Json(..)` and `Serialize` returns: `to_string`,
        /// plus a check for `null` and JSON strings.
        #[divan::bench(sample_size = 128)]
        fn json_output() -> ToolOutput {
            let forecast = agents_bench::weather_forecast("Paris, France".to_owned(), 3);
            ToolOutput::json(black_box(&forecast)).expect("serializable")
        }

        /// `serde_json::to_string` of the same struct (the baseline's output formatting).
        #[divan::bench(sample_size = 256)]
        fn json_output_direct() -> String {
            let forecast = agents_bench::weather_forecast("Paris, France".to_owned(), 3);
            serde_json::to_string(black_box(&forecast)).expect("serializable")
        }

        /// `ToolSet::get` of the middle tool of 50 (`HashMap<Arc<str>, usize>`, SipHash).
        #[divan::bench(sample_size = 2000)]
        fn tool_set_lookup(bencher: Bencher<'_, '_>) {
            let set = fifty_tool_set();
            let name = middle_tool_name();
            bencher.bench_local(|| set.get(black_box(&name)).is_some());
        }
    }
}
