//! The shapes a tool method may take: context anywhere, associated functions, options,
//! `Result` and `Serialize` returns, and a free function beside them.

use agents_core::prelude::*;
use std::sync::Arc;

#[derive(Serialize)]
struct Forecast {
    high: i32,
    low: i32,
}

struct Weather {
    unit: &'static str,
}

#[function_tools]
impl Weather {
    /// Get the weather in a city.
    #[function_tool]
    async fn get_weather(&self, city: String, ctx: RunContext) -> String {
        format!("{} {} ({})", city, self.unit, ctx.function_call().call_id)
    }

    #[function_tool(name = "forecast", description = "Tomorrow's forecast.")]
    async fn tomorrow(&self) -> Forecast {
        Forecast { high: 21, low: 12 }
    }

    /// Fails politely.
    #[function_tool]
    async fn fallible(&self, mut fail: bool) -> Result<&'static str, ToolError> {
        fail &= !self.unit.is_empty();
        if fail { Err(ToolError::message("it failed")) } else { Ok("ok") }
    }

    /// An associated function is a tool too.
    #[function_tool]
    async fn ping() -> &'static str {
        "pong"
    }
}

/// Say hello.
#[function_tool]
pub async fn hello(_ctx: RunContext, name: Option<String>) -> String {
    format!("hello {}", name.unwrap_or_default())
}

fn main() {
    let tools = Arc::new(Weather { unit: "C" }).function_tools();
    let names: Vec<&str> = tools.iter().map(FunctionTool::name).collect();
    assert_eq!(names, ["get_weather", "forecast", "fallible", "ping"]);
    assert_eq!(tools[1].description(), "Tomorrow's forecast.");
    assert_eq!(hello_tool().name(), "hello");
}
