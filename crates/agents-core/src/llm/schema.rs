//! JSON schemas of tool parameters: the canonical form, and OpenAI's strict rendering.
//!
//! The **canonical** schema is what schemars produces for the arguments type (draft 2020-12),
//! with subschemas inlined, non-standard `format`s removed, no `$schema`, no root `title` or
//! `description`, and always a `properties` object. Properties are in declaration order.
//! Optional arguments (`Option<T>`, or an argument with a default) are simply not `required`.
//!
//! The **strict** rendering is what OpenAI's `strict: true` function calling accepts: every
//! object has `additionalProperties: false` and lists all of its properties as `required`;
//! properties that were optional become nullable, and the model sends `null` to mean "not
//! given" (the Python framework's "null sentinel"); `title` and `default` are removed and
//! `oneOf` becomes `anyOf`. Schemas that strict mode cannot express (maps with arbitrary keys,
//! recursive types, values of any type, tuples) have no strict rendering: such a tool is sent
//! non-strict.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use schemars::transform::RestrictFormats;
use serde_json::{Map, Value};

/// The canonical parameters schema of an arguments type `T`.
///
/// ```
/// use agents_core::llm::schema::parameters_schema;
/// use agents_core::prelude::*;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Args {
///     /// City and country.
///     location: String,
///     days: Option<u8>,
/// }
///
/// let schema = parameters_schema::<Args>();
/// assert_eq!(schema["properties"]["location"]["description"], "City and country.");
/// assert_eq!(schema["required"], serde_json::json!(["location"]));
/// ```
pub fn parameters_schema<T: JsonSchema>() -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.inline_subschemas = true;
    settings.meta_schema = None;
    let generator = settings.with_transform(RestrictFormats::default()).into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    if let Value::Object(root) = &mut schema {
        root.remove("$schema");
        root.remove("title");
        root.remove("description");
        if root.get("type").and_then(Value::as_str) == Some("object") {
            root.entry("properties").or_insert_with(|| Value::Object(Map::new()));
        }
    }
    schema
}

/// Lists `names` as required in an object schema, keeping `required` in property order.
pub(crate) fn require(schema: &mut Value, names: &[&str]) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return };
    let already: Vec<String> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let required: Vec<Value> = properties
        .keys()
        .filter(|key| already.contains(key) || names.contains(&key.as_str()))
        .map(|key| Value::String(key.clone()))
        .collect();
    if let Value::Object(root) = schema {
        root.insert("required".to_owned(), Value::Array(required));
    }
}

/// The canonical schema of a tool without arguments: `{"type": "object", "properties": {}}`.
pub fn empty_parameters_schema() -> Value {
    let mut root = Map::new();
    root.insert("type".to_owned(), Value::String("object".to_owned()));
    root.insert("properties".to_owned(), Value::Object(Map::new()));
    Value::Object(root)
}

/// Whether a schema describes a JSON object (`"type": "object"`).
pub(crate) fn is_object_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("object")
}

/// The OpenAI strict rendering of a canonical parameters schema, or why there is none.
///
/// ```
/// use agents_core::llm::schema::{parameters_schema, to_strict};
/// use agents_core::prelude::*;
///
/// #[derive(Deserialize, JsonSchema)]
/// struct Args { location: String, days: Option<u8> }
///
/// let strict = to_strict(&parameters_schema::<Args>()).unwrap();
/// assert_eq!(strict["required"], serde_json::json!(["location", "days"]));
/// assert_eq!(strict["properties"]["days"]["type"], serde_json::json!(["integer", "null"]));
/// assert_eq!(strict["additionalProperties"], false);
/// ```
pub fn to_strict(canonical: &Value) -> Result<Value, StrictIncompatibility> {
    let mut schema = canonical.clone();
    strictify(&mut schema, "")?;
    Ok(schema)
}

/// Why a schema has no OpenAI strict rendering.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{path}` {reason}")]
#[non_exhaustive]
pub struct StrictIncompatibility {
    /// JSON pointer-like path of the offending subschema (`/` for the root).
    pub path: String,
    /// What strict mode cannot express there.
    pub reason: &'static str,
}

fn incompatible(path: &str, reason: &'static str) -> StrictIncompatibility {
    StrictIncompatibility {
        path: if path.is_empty() { "/".to_owned() } else { path.to_owned() },
        reason,
    }
}

fn strictify(node: &mut Value, path: &str) -> Result<(), StrictIncompatibility> {
    let map = match node {
        Value::Object(map) => map,
        Value::Bool(true) => return Err(incompatible(path, "accepts a value of any type")),
        _ => return Ok(()),
    };
    if map.contains_key("$ref") {
        return Err(incompatible(path, "is a recursive type (a `$ref` that cannot be inlined)"));
    }
    if map.contains_key("prefixItems") {
        return Err(incompatible(
            path,
            "is a tuple, which strict mode cannot express; use a struct with named fields to \
             keep the tool strict",
        ));
    }
    if map.is_empty() || (map.len() == 1 && map.contains_key("description")) {
        return Err(incompatible(path, "accepts a value of any type"));
    }
    map.remove("title");
    map.remove("default");
    map.remove("$defs");
    if let Some(one_of) = map.remove("oneOf") {
        map.insert("anyOf".to_owned(), one_of);
    }
    for key in ["anyOf", "allOf"] {
        if let Some(Value::Array(variants)) = map.get_mut(key) {
            for (index, variant) in variants.iter_mut().enumerate() {
                strictify(variant, &format!("{path}/{key}/{index}"))?;
            }
        }
    }
    if let Some(items) = map.get_mut("items") {
        strictify(items, &format!("{path}/items"))?;
    }
    let is_object = map.contains_key("properties")
        || match map.get("type") {
            Some(Value::String(t)) => t == "object",
            Some(Value::Array(types)) => types.iter().any(|t| t == "object"),
            _ => false,
        };
    if !is_object {
        return Ok(());
    }
    match map.get("additionalProperties") {
        None | Some(Value::Bool(false)) => {}
        Some(_) => return Err(incompatible(path, "is a map with arbitrary keys")),
    }
    map.insert("additionalProperties".to_owned(), Value::Bool(false));
    let originally_required: Vec<String> = match map.get("required") {
        Some(Value::Array(names)) => {
            names.iter().filter_map(Value::as_str).map(str::to_owned).collect()
        }
        _ => Vec::new(),
    };
    let properties = map.entry("properties").or_insert_with(|| Value::Object(Map::new()));
    let mut all_names = Vec::new();
    if let Value::Object(properties) = properties {
        for (name, property) in properties.iter_mut() {
            strictify(property, &format!("{path}/properties/{name}"))?;
            if !originally_required.iter().any(|required| required == name) {
                make_nullable(property);
            }
            all_names.push(Value::String(name.clone()));
        }
    }
    if all_names.is_empty() {
        map.remove("required");
    } else {
        map.insert("required".to_owned(), Value::Array(all_names));
    }
    Ok(())
}

/// Makes a (strict) subschema also accept `null`.
fn make_nullable(node: &mut Value) {
    if accepts_null(node) {
        return;
    }
    let Value::Object(map) = node else { return };
    if map.contains_key("const") {
        wrap_nullable(map);
        return;
    }
    let mut handled = false;
    match map.get_mut("type") {
        Some(Value::String(single)) => {
            let single = std::mem::take(single);
            map.insert(
                "type".to_owned(),
                Value::Array(vec![Value::String(single), Value::String("null".to_owned())]),
            );
            handled = true;
        }
        Some(Value::Array(types)) => {
            types.push(Value::String("null".to_owned()));
            handled = true;
        }
        _ => {}
    }
    if let Some(Value::Array(values)) = map.get_mut("enum") {
        values.push(Value::Null);
        if handled {
            return;
        }
        handled = true;
    }
    if handled {
        return;
    }
    if let Some(Value::Array(variants)) = map.get_mut("anyOf") {
        variants.push(null_schema());
        return;
    }
    wrap_nullable(map);
}

/// Replaces `map` with `{"anyOf": [map, {"type": "null"}]}`, keeping its description outside.
fn wrap_nullable(map: &mut Map<String, Value>) {
    let description = map.remove("description");
    let inner = Value::Object(std::mem::take(map));
    map.insert("anyOf".to_owned(), Value::Array(vec![inner, null_schema()]));
    if let Some(description) = description {
        map.insert("description".to_owned(), description);
    }
}

fn null_schema() -> Value {
    let mut map = Map::new();
    map.insert("type".to_owned(), Value::String("null".to_owned()));
    Value::Object(map)
}

/// Whether a subschema accepts `null`.
pub(crate) fn accepts_null(schema: &Value) -> bool {
    let Value::Object(map) = schema else { return matches!(schema, Value::Bool(true)) };
    if map.is_empty() {
        return true;
    }
    match map.get("type") {
        Some(Value::String(t)) if t == "null" => return true,
        Some(Value::Array(types)) if types.iter().any(|t| t == "null") => return true,
        _ => {}
    }
    if map.get("const").is_some_and(Value::is_null) {
        return true;
    }
    ["anyOf", "oneOf"].iter().any(|key| {
        map.get(*key)
            .and_then(Value::as_array)
            .is_some_and(|variants| variants.iter().any(accepts_null))
    })
}
