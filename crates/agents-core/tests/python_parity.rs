//! The schemas our tools produce agree with LiveKit's Python framework for the same signatures.
//!
//! `data/python_tool_schemas.json` holds what livekit-agents 1.8.9 produces (OpenAI chat form,
//! non-strict and strict) for twelve Python signatures; each test below writes the same tool
//! the Rust way (doc comments in place of the docstring's `Args:` section, `Option<T>` or
//! `#[arg(default = ...)]` in place of `= default`) and compares, per the project's parity rule:
//! tool name, description, property names and order, types, enums, descriptions, and which
//! properties are required (non-strict) or nullable (strict). Python-only keys (`title`,
//! `default`) and `$defs`/`$ref` versus inlined subschemas may differ, so both sides are
//! normalized before comparing: references inlined, `anyOf [X, null]` folded into a nullable
//! `X`, types as sorted lists, `required` as a set.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use agents_core::llm::FunctionTool;
use agents_core::prelude::*;
use agents_core::serde_json::{self, Map, Value, json};

const DATA: &str = include_str!("data/python_tool_schemas.json");

fn python_case(title_prefix: &str) -> (Value, Value) {
    let data: Value = serde_json::from_str(DATA).expect("test data is JSON");
    let cases = data["cases"].as_array().expect("cases array");
    let case = cases
        .iter()
        .find(|case| case["title"].as_str().is_some_and(|t| t.starts_with(title_prefix)))
        .unwrap_or_else(|| panic!("no Python case {title_prefix}"));
    (case["non_strict"]["function"].clone(), case["strict"]["function"].clone())
}

fn add_null(map: &mut Map<String, Value>) {
    match map.get_mut("type") {
        Some(Value::Array(types)) => {
            if !types.contains(&json!("null")) {
                types.push(json!("null"));
            }
            types.sort_by_key(ToString::to_string);
        }
        Some(single @ Value::String(_)) => {
            let mut types = vec![single.clone(), json!("null")];
            types.sort_by_key(ToString::to_string);
            *single = Value::Array(types);
        }
        _ => {}
    }
    if let Some(Value::Array(values)) = map.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
}

fn normalize(schema: &Value, defs: &Value) -> Value {
    let Value::Object(map) = schema else { return schema.clone() };
    if let Some(Value::String(reference)) = map.get("$ref") {
        let name = reference.trim_start_matches("#/$defs/");
        let mut merged = defs[name].as_object().cloned().expect("referenced definition");
        for (key, value) in map {
            if key != "$ref" {
                merged.insert(key.clone(), value.clone());
            }
        }
        return normalize(&Value::Object(merged), defs);
    }
    if let Some(Value::Array(variants)) = map.get("anyOf") {
        let null = json!({"type": "null"});
        let others: Vec<&Value> = variants.iter().filter(|v| **v != null).collect();
        if variants.len() == 2 && others.len() == 1 {
            let Value::Object(mut inner) = normalize(others[0], defs) else {
                panic!("nullable variant is not an object schema")
            };
            add_null(&mut inner);
            for (key, value) in map {
                if !matches!(key.as_str(), "anyOf" | "title" | "default") {
                    inner.insert(key.clone(), normalize(value, defs));
                }
            }
            return Value::Object(inner);
        }
    }
    let mut out = Map::new();
    for (key, value) in map {
        let normalized = match key.as_str() {
            "title" | "default" | "$defs" | "format" => continue,
            "type" => {
                let mut types = match value {
                    Value::Array(types) => types.clone(),
                    single => vec![single.clone()],
                };
                types.sort_by_key(ToString::to_string);
                Value::Array(types)
            }
            "required" => {
                let mut names = value.as_array().cloned().unwrap_or_default();
                names.sort_by_key(ToString::to_string);
                Value::Array(names)
            }
            "properties" => Value::Object(
                value
                    .as_object()
                    .expect("properties object")
                    .iter()
                    .map(|(name, property)| (name.clone(), normalize(property, defs)))
                    .collect(),
            ),
            "items" | "additionalProperties" if value.is_object() => normalize(value, defs),
            "anyOf" => Value::Array(
                value.as_array().expect("anyOf array").iter().map(|v| normalize(v, defs)).collect(),
            ),
            _ => value.clone(),
        };
        out.insert(key.clone(), normalized);
    }
    if out.get("type").and_then(Value::as_array).is_some_and(Vec::is_empty) {
        out.remove("type");
    }
    Value::Object(out)
}

fn property_names(parameters: &Value) -> Vec<String> {
    parameters["properties"].as_object().map(|p| p.keys().cloned().collect()).unwrap_or_default()
}

/// Compares one rendering (`parameters`) of ours with Python's `function` entry.
fn assert_parity(ours: &Value, python_function: &Value, what: &str) {
    let python = &python_function["parameters"];
    let defs = python.get("$defs").cloned().unwrap_or(Value::Null);
    assert_eq!(property_names(ours), property_names(python), "{what}: property order");
    let ours_normalized = normalize(ours, &Value::Null);
    let python_normalized = normalize(python, &defs);
    assert_eq!(
        ours_normalized,
        python_normalized,
        "{what}: schemas differ\nours:   {}\npython: {}",
        serde_json::to_string_pretty(&ours_normalized).unwrap_or_default(),
        serde_json::to_string_pretty(&python_normalized).unwrap_or_default(),
    );
}

fn check(tool: &FunctionTool, title_prefix: &str) {
    let (non_strict, strict) = python_case(title_prefix);
    assert_eq!(tool.name(), non_strict["name"], "{title_prefix}: name");
    let python_description = non_strict["description"].as_str().expect("description");
    // docstring_parser leaves a trailing "\n" when only sections follow the summary; doc
    // comments have no such sections, so compare without trailing whitespace.
    assert_eq!(tool.description(), python_description.trim_end(), "{title_prefix}: description");
    assert_parity(tool.parameters(), &non_strict, &format!("{title_prefix} non-strict"));
    let ours_strict = tool.strict_parameters().expect("the tool has a strict rendering");
    assert_parity(ours_strict, &strict, &format!("{title_prefix} strict"));
}

/// Get the current time in UTC.
#[function_tool]
async fn get_current_time() -> String {
    "12:00".to_owned()
}

#[test]
fn c1_no_arguments() {
    check(&get_current_time_tool(), "C1.");
}

/// Look up the weather forecast for a location.
///
/// Use this whenever the user asks about weather.
#[function_tool]
async fn lookup_weather(
    _ctx: RunContext,
    /// The city and country, e.g. "Paris, France".
    location: String,
    /// Number of days to forecast.
    #[arg(default = 3)]
    days: i64,
    /// Temperature units.
    #[arg(default = "celsius")]
    units: String,
) -> Json<Value> {
    Json(json!({ "location": location, "days": days, "units": units }))
}

#[test]
fn c2_defaults_docs_and_context() {
    check(&lookup_weather_tool(), "C2.");
}

/// Search the product catalog.
#[function_tool]
async fn search_products(
    query: String,
    limit: Option<i64>,
    category: Option<String>,
    #[arg(default = Some("acme".to_owned()))] brand: Option<String>,
) -> String {
    format!("{query} {limit:?} {category:?} {brand:?}")
}

#[test]
fn c3_optional_with_defaults() {
    check(&search_products_tool(), "C3.");
}

/// Set or clear the user's nickname.
#[function_tool]
async fn set_nickname(#[arg(required)] nickname: Option<String>) -> String {
    nickname.unwrap_or_default()
}

#[test]
fn c3b_optional_without_default_is_required_and_nullable() {
    check(&set_nickname_tool(), "C3b.");
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Room {
    Kitchen,
    Bedroom,
    Bathroom,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Color {
    Red,
    Green,
    Blue,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Finish {
    Matte,
    Gloss,
}

/// An enum sent as its integer value (Python's `class Priority(int, enum.Enum)`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
enum Priority {
    Low = 1,
    High = 2,
}

impl TryFrom<u8> for Priority {
    type Error = String;
    fn try_from(value: u8) -> Result<Self, String> {
        match value {
            1 => Ok(Self::Low),
            2 => Ok(Self::High),
            other => Err(format!("{other} is not a priority (1 or 2)")),
        }
    }
}

impl From<Priority> for u8 {
    fn from(priority: Priority) -> u8 {
        priority as u8
    }
}

impl JsonSchema for Priority {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Priority".into()
    }
    fn json_schema(
        _: &mut agents_core::schemars::SchemaGenerator,
    ) -> agents_core::schemars::Schema {
        agents_core::schemars::json_schema!({ "type": "integer", "enum": [1, 2] })
    }
}

/// Paint a room.
#[function_tool]
async fn paint_room(
    room: Room,
    color: Color,
    #[arg(default = Finish::Matte)] finish: Finish,
    #[arg(default = Priority::Low)] priority: Priority,
) -> String {
    format!("{room:?} {color:?} {finish:?} {priority:?}")
}

#[test]
fn c4_literal_and_enums() {
    check(&paint_room_tool(), "C4.");
}

fn default_country() -> String {
    "US".to_owned()
}

/// A postal address.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Address {
    /// Street and number
    street: String,
    city: String,
    zip_code: Option<String>,
    #[serde(default = "default_country")]
    country: String,
}

/// Create a new customer record.
#[function_tool]
async fn create_customer(
    name: String,
    address: Address,
    billing_address: Option<Address>,
) -> String {
    format!("{name} {address:?} {billing_address:?}")
}

#[test]
fn c5_nested_struct_and_optional_nested_struct() {
    check(&create_customer_tool(), "C5.");
}

fn one() -> i64 {
    1
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct OrderItem {
    /// Product SKU
    sku: String,
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 100))]
    quantity: i64,
}

/// Place an order.
#[function_tool]
async fn place_order(
    /// Items to order.
    items: Vec<OrderItem>,
    /// Free-form tags.
    #[arg(default = Vec::new())]
    tags: Vec<String>,
    coupon_codes: Option<Vec<String>>,
) -> String {
    format!("{items:?} {tags:?} {coupon_codes:?}")
}

#[test]
fn c6_lists() {
    check(&place_order_tool(), "C6.");
}

/// Book a table at a restaurant.
#[function_tool]
async fn book_table_numpy(
    /// Name of the restaurant.
    restaurant: String,
    /// Number of guests.
    party_size: i64,
    /// Reservation time (HH:MM).
    #[arg(default = "19:00")]
    time: String,
) -> String {
    format!("{restaurant} {party_size} {time}")
}

#[test]
fn c7a_parameter_docs() {
    check(&book_table_numpy_tool(), "C7a.");
}

/// Book a table at a restaurant.
#[function_tool]
async fn book_table_sphinx(
    /// Name of the restaurant.
    restaurant: String,
    /// Number of guests.
    party_size: i64,
) -> String {
    format!("{restaurant} {party_size}")
}

#[test]
fn c7b_parameter_docs() {
    check(&book_table_sphinx_tool(), "C7b.");
}

/// Docstring description is overridden by description=.
#[function_tool(name = "transfer_call", description = "Transfer the call to a human department.")]
async fn transfer(
    _ctx: RunContext,
    /// this doc comment loses to the `#[arg(description)]` attribute
    #[arg(description = "Department to transfer to")]
    department: String,
    #[arg(description = "1..5", default = 3)]
    #[schemars(range(min = 1, max = 5))]
    urgency: i64,
    #[arg(description = "Why")] reason: Option<String>,
) {
    let _ = (department, urgency, reason);
}

#[test]
fn c7c_explicit_name_description_and_constraints() {
    check(&transfer_tool(), "C7c.");
}

#[test]
fn c8_raw_schema_is_sent_as_given() {
    let (non_strict, strict) = python_case("C8.");
    let tool = FunctionTool::raw(
        "open_gate",
        "Open a gate by id",
        non_strict["parameters"].clone(),
        |_ctx: RunContext, args: Value| async move { format!("opened {}", args["gate_id"]) },
    )
    .expect("valid raw tool");
    assert_eq!(tool.name(), non_strict["name"]);
    assert_eq!(tool.description(), non_strict["description"]);
    assert_eq!(tool.parameters(), &non_strict["parameters"]);
    // Raw schemas are never rewritten: Python sends the same parameters in both modes.
    assert_eq!(tool.parameters(), &strict["parameters"]);
    assert!(tool.strict_parameters().is_none());
}

#[test]
fn c9_on_duplicate_is_not_part_of_the_schema_yet() {
    // Python's `on_duplicate="confirm"` injects a hidden `lk_agents_confirm_duplicate`
    // parameter; this port has no duplicate-call policies yet. The rest of the signature
    // still agrees.
    /// Send a payment.
    #[function_tool]
    async fn send_payment(amount: f64, to: String) -> String {
        format!("{amount} to {to}")
    }
    let (mut non_strict, _) = python_case("C9.");
    let parameters = non_strict["parameters"].as_object_mut().expect("object");
    parameters["properties"]
        .as_object_mut()
        .expect("properties")
        .remove("lk_agents_confirm_duplicate");
    let tool = send_payment_tool();
    assert_parity(tool.parameters(), &non_strict, "C9 non-strict without the confirm parameter");
}
