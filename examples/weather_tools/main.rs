//! Method tools with typed arguments: what `#[function_tool]` makes of Rust types.
//!
//! **What it shows.** A weather agent whose `#[function_tools]` methods take an optional
//! parameter (`Option<Units>`, and `days` with a default), an enum (`Units`, offered as
//! `"celsius"` or `"fahrenheit"`), a nested struct (`Place`), a range (`#[schemars(range)]`),
//! and doc comments that become the descriptions the model reads. `current_weather` returns a `ToolError` the model reads (for
//! a city it has no data for, so it can ask again); `forecast` returns structured data (a
//! `Vec` of a `Serialize` type), sent to the model as JSON. The weather is a fixed table
//! standing in for a real weather API.
//!
//! **What it needs.** `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET` (in the environment or a
//! `.env` file) for LiveKit Inference, plus `LIVEKIT_URL` for `dev`. The text console needs
//! nothing else.
//!
//! **Run it.**
//!
//! ```text
//! cargo run --example weather_tools -- console --text
//! ```
//!
//! Then ask "what's the weather in Lisbon, in fahrenheit?" or "the forecast for Oslo for the
//! next two days?"; "what about Atlantis?" gets the tool's error.

use std::process::ExitCode;

use agents_core::prelude::*;
// Model strings ("openai/gpt-4.1-mini") become LiveKit Inference clients through this crate.
use agents_inference as _;

/// Temperature units.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Units {
    Celsius,
    Fahrenheit,
}

/// A place, as precise as the user gave it.
#[derive(Debug, Deserialize, JsonSchema)]
struct Place {
    /// The city, in English.
    city: String,
    /// The country, if the user said it.
    country: Option<String>,
}

/// One day of a forecast, returned to the model as JSON.
#[derive(Debug, Serialize)]
struct DayForecast {
    day: u8,
    summary: &'static str,
    high: i32,
    low: i32,
    units: &'static str,
}

/// The stand-in for a weather service: today's summary and temperature (°C) per city.
fn conditions(city: &str) -> Option<(&'static str, i32)> {
    match city.to_lowercase().as_str() {
        "lisbon" => Some(("sunny", 24)),
        "oslo" => Some(("light snow", -3)),
        "paris" => Some(("cloudy", 14)),
        "tokyo" => Some(("rain", 19)),
        _ => None,
    }
}

fn convert(celsius: i32, units: Units) -> (i32, &'static str) {
    match units {
        Units::Celsius => (celsius, "celsius"),
        Units::Fahrenheit => (celsius * 9 / 5 + 32, "fahrenheit"),
    }
}

#[derive(Agent)]
#[agent(instructions = "You are a weather assistant. Use your tools to answer questions about \
    the weather; if a tool fails, tell the user what went wrong in one short sentence.")]
struct WeatherAgent;

#[function_tools]
impl WeatherAgent {
    /// Get the current weather in a place.
    #[function_tool]
    async fn current_weather(
        &self,
        /// Where the user wants the weather.
        place: Place,
        /// The units of the temperature; celsius if the user did not say.
        units: Option<Units>,
    ) -> Result<String, ToolError> {
        let Some((summary, celsius)) = conditions(&place.city) else {
            // The model reads this and can ask the user for another place.
            return Err(ToolError::message(format!(
                "No weather data for {}: only Lisbon, Oslo, Paris and Tokyo are covered.",
                place.city
            )));
        };
        let (temperature, units) = convert(celsius, units.unwrap_or(Units::Celsius));
        let country = place.country.map(|c| format!(", {c}")).unwrap_or_default();
        Ok(format!("{summary}, {temperature} degrees {units} in {}{country}", place.city))
    }

    /// Get the forecast for the next days in a place.
    #[function_tool]
    async fn forecast(
        &self,
        /// Where the user wants the forecast.
        place: Place,
        /// How many days; 3 if the user did not say.
        #[arg(default = 3)]
        #[schemars(range(min = 1, max = 7))]
        days: u8,
        /// The units of the temperatures; celsius if the user did not say.
        units: Option<Units>,
    ) -> Result<Vec<DayForecast>, ToolError> {
        if !(1..=7).contains(&days) {
            return Err(ToolError::message("days must be from 1 to 7"));
        }
        let (summary, celsius) = conditions(&place.city)
            .ok_or_else(|| ToolError::message(format!("No forecast for {}.", place.city)))?;
        let units = units.unwrap_or(Units::Celsius);
        Ok((1..=days)
            .map(|day| {
                let (high, name) = convert(celsius + i32::from(day % 3), units);
                let (low, _) = convert(celsius - 5 + i32::from(day % 2), units);
                DayForecast { day, summary, high, low, units: name }
            })
            .collect())
    }
}

async fn entrypoint(ctx: JobContext) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let session = AgentSession::builder()
        .stt("deepgram/nova-3")
        .llm("openai/gpt-4.1-mini")
        .tts("cartesia/sonic-3:9626c31c-bec5-4cca-baa8-f8ba9e84c8bc")
        .build();
    session.start(WeatherAgent.into_agent()?).room(ctx.room()).await?;
    ctx.connect().await?;
    Ok(())
}

fn main() -> ExitCode {
    cli::run_app(AgentServer::new().rtc_session(entrypoint))
}
