//! The protocol structs of `src/proto/` against the descriptors the pinned wheel ships
//! (`tests/data/livekit-ffi-1.2.1.fds`, made by `tests/data/extract_descriptors.py` from
//! PyPI `livekit` 1.2.1): every struct, field, oneof variant and enum value the crate
//! defines must be the protocol's, with the same number, type and label.
//!
//! The structs are read from their source: their `#[prost(...)]` attributes are what prost
//! encodes and decodes, so they are what must match.

#![allow(clippy::panic)]

use std::collections::HashMap;

use prost::Message as _;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorSet};

const SOURCES: &[(&str, &str)] = &[
    ("audio_frame.rs", include_str!("../src/proto/audio_frame.rs")),
    ("data_stream.rs", include_str!("../src/proto/data_stream.rs")),
    ("ffi.rs", include_str!("../src/proto/ffi.rs")),
    ("participant.rs", include_str!("../src/proto/participant.rs")),
    ("room.rs", include_str!("../src/proto/room.rs")),
    ("track.rs", include_str!("../src/proto/track.rs")),
];

struct Protocol {
    messages: HashMap<String, DescriptorProto>,
    enums: HashMap<String, EnumDescriptorProto>,
}

impl Protocol {
    fn load() -> Self {
        let bytes = include_bytes!("data/livekit-ffi-1.2.1.fds");
        let set = FileDescriptorSet::decode(&bytes[..]).expect("the descriptor set decodes");
        let mut protocol = Protocol { messages: HashMap::new(), enums: HashMap::new() };
        for file in set.file {
            let package = file.package().to_owned();
            for message in file.message_type {
                protocol.add_message(&package, message);
            }
            for e in file.enum_type {
                protocol.enums.insert(format!("{package}.{}", e.name()).to_lowercase(), e);
            }
        }
        protocol
    }

    fn add_message(&mut self, scope: &str, message: DescriptorProto) {
        let name = format!("{scope}.{}", message.name());
        for nested in &message.nested_type {
            self.add_message(&name, nested.clone());
        }
        for e in &message.enum_type {
            self.enums.insert(format!("{name}.{}", e.name()).to_lowercase(), e.clone());
        }
        self.messages.insert(name.to_lowercase(), message);
    }
}

/// `connect_callback` → `ConnectCallback`.
fn camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// `ConnectCallback` → `connect_callback`.
fn snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// A Rust type path (`super::connect_callback::Result`, `Option<RoomOptions>`) as the
/// dotted suffix of a protocol type name (`ConnectCallback.Result`).
fn proto_suffix(rust_type: &str) -> String {
    let mut inner = rust_type.trim().trim_end_matches(',');
    for wrapper in ["Option<", "Vec<", "Box<"] {
        if let Some(rest) = inner.strip_prefix(wrapper) {
            inner = rest.trim_end_matches('>');
        }
    }
    let segments: Vec<_> =
        inner.split("::").filter(|s| !matches!(*s, "super" | "crate" | "proto" | "self")).collect();
    let (last, modules) = segments.split_last().expect("a type");
    modules.iter().map(|m| camel(m)).chain([last.to_string()]).collect::<Vec<_>>().join(".")
}

fn type_ends_with(field: &FieldDescriptorProto, suffix: &str) -> bool {
    field.type_name().to_lowercase().ends_with(&format!(".{}", suffix.to_lowercase()))
}

/// One `#[prost(...)]` attribute's settings.
struct Attribute {
    kind: String,
    kind_value: Option<String>,
    label: Option<String>,
    tag: Option<i32>,
    tags: Vec<i32>,
}

fn parse_attribute(text: &str) -> Attribute {
    let inner = text.trim().trim_start_matches("#[prost(").trim_end_matches(")]");
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in inner.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    let mut attribute = Attribute {
        kind: String::new(),
        kind_value: None,
        label: None,
        tag: None,
        tags: Vec::new(),
    };
    for (i, part) in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).enumerate() {
        let (key, value) = match part.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim().trim_matches('"').to_owned())),
            None => (part, None),
        };
        match key {
            "required" | "optional" | "repeated" => attribute.label = Some(key.to_owned()),
            "tag" => attribute.tag = value.and_then(|v| v.parse().ok()),
            "tags" => {
                attribute.tags = value
                    .unwrap_or_default()
                    .split(',')
                    .map(|t| t.trim().parse().expect("a tag number"))
                    .collect()
            }
            "skip_debug" => {}
            _ if i == 0 => {
                attribute.kind = key.to_owned();
                attribute.kind_value = value;
            }
            other => panic!("unexpected prost setting `{other}` in {text}"),
        }
    }
    attribute
}

/// What the source declares.
#[derive(Debug)]
enum Item {
    Struct { path: Vec<String>, name: String, fields: Vec<(String, String, String)> },
    Enumeration { path: Vec<String>, name: String, values: Vec<(String, i32)> },
    Oneof { path: Vec<String>, variants: Vec<(String, String, String)> },
}

/// Reads the structs, enumerations and oneofs of one file: (attribute, name, type) per
/// field or variant.
fn parse_source(source: &str) -> Vec<Item> {
    let lines: Vec<&str> = source.lines().collect();
    let mut items = Vec::new();
    let mut modules: Vec<(String, usize)> = Vec::new();
    let mut derive = String::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if let Some((_, depth)) = modules.last()
            && trimmed == "}"
            && indent == *depth
        {
            modules.pop();
        } else if let Some(name) =
            trimmed.strip_prefix("pub mod ").and_then(|r| r.strip_suffix(" {"))
        {
            modules.push((name.to_owned(), indent));
        } else if trimmed.starts_with("#[derive(") {
            derive = trimmed.to_owned();
        } else if let Some(rest) =
            trimmed.strip_prefix("pub struct ").or(trimmed.strip_prefix("pub enum "))
        {
            let name = rest.split([' ', '{']).next().expect("a name").to_owned();
            let path: Vec<String> = modules.iter().map(|(m, _)| m.clone()).collect();
            let mut members = Vec::new();
            let mut values = Vec::new();
            let mut attribute = String::new();
            if !trimmed.ends_with("{}") {
                i += 1;
                while lines[i].trim() != "}"
                    || lines[i].len() - lines[i].trim_start().len() != indent
                {
                    let member = lines[i].trim();
                    if member.starts_with("#[prost(")
                        || !attribute.is_empty() && !attribute.ends_with(")]")
                    {
                        attribute.push_str(member);
                        attribute.push(' ');
                        attribute = attribute.trim_end().to_owned();
                    } else if let Some((field, ty)) =
                        member.strip_prefix("pub ").and_then(|m| m.split_once(": "))
                    {
                        members.push((
                            std::mem::take(&mut attribute),
                            field.to_owned(),
                            ty.to_owned(),
                        ));
                    } else if let Some((variant, ty)) =
                        member.strip_suffix("),").and_then(|m| m.split_once('('))
                    {
                        members.push((
                            std::mem::take(&mut attribute),
                            variant.to_owned(),
                            ty.to_owned(),
                        ));
                    } else if let Some((variant, value)) =
                        member.strip_suffix(',').and_then(|m| m.split_once(" = "))
                    {
                        values.push((variant.to_owned(), value.parse().expect("an enum value")));
                    }
                    i += 1;
                }
            }
            if derive.contains("prost::Enumeration") {
                items.push(Item::Enumeration { path, name, values });
            } else if derive.contains("prost::Oneof") {
                items.push(Item::Oneof { path, variants: members });
            } else if derive.contains("prost::Message") {
                items.push(Item::Struct { path, name, fields: members });
            }
            derive.clear();
        }
        i += 1;
    }
    items
}

fn full_name(path: &[String], name: &str) -> String {
    let mut parts = vec!["livekit".to_owned(), "proto".to_owned()];
    parts.extend(path.iter().map(|m| camel(m)));
    parts.push(name.to_owned());
    parts.join(".").to_lowercase()
}

fn scalar_type(kind: &str) -> Option<Type> {
    Some(match kind {
        "uint64" => Type::Uint64,
        "uint32" => Type::Uint32,
        "int64" => Type::Int64,
        "int32" => Type::Int32,
        "bool" => Type::Bool,
        "string" => Type::String,
        "bytes" => Type::Bytes,
        "double" => Type::Double,
        "float" => Type::Float,
        _ => return None,
    })
}

/// The problems with one field (or oneof variant) against its descriptor.
fn check_field(
    protocol: &Protocol,
    context: &str,
    attribute: &Attribute,
    rust_type: &str,
    field: &FieldDescriptorProto,
    problems: &mut Vec<String>,
) {
    if let Some(tag) = attribute.tag
        && tag != field.number()
    {
        problems.push(format!("{context}: tag {tag}, the protocol's is {}", field.number()));
    }
    if let Some(label) = &attribute.label {
        let expected = match field.label() {
            Label::Required => "required",
            Label::Optional => "optional",
            Label::Repeated => "repeated",
        };
        if label != expected {
            problems.push(format!("{context}: {label}, the protocol's is {expected}"));
        }
    }
    let kind = attribute.kind.as_str();
    let ok = if let Some(scalar) = scalar_type(kind) {
        field.r#type() == scalar
    } else if kind == "message" {
        field.r#type() == Type::Message && type_ends_with(field, &proto_suffix(rust_type))
    } else if kind == "enumeration" {
        let suffix = proto_suffix(attribute.kind_value.as_deref().unwrap_or_default());
        field.r#type() == Type::Enum && type_ends_with(field, &suffix)
    } else if kind == "map" {
        let entry =
            protocol.messages.get(&field.type_name().trim_start_matches('.').to_lowercase());
        field.label() == Label::Repeated
            && entry.is_some_and(|entry| {
                entry.options.as_ref().is_some_and(|o| o.map_entry())
                    && entry.field.iter().all(|f| f.r#type() == Type::String)
                    && attribute.kind_value.as_deref() == Some("string, string")
            })
    } else {
        false
    };
    if !ok {
        problems.push(format!(
            "{context}: `{kind}` {rust_type} does not match the protocol's {:?} {}",
            field.r#type(),
            field.type_name()
        ));
    }
}

#[test]
fn every_struct_field_variant_and_value_is_the_protocols() {
    let protocol = Protocol::load();
    let mut problems = Vec::new();
    let mut checked = (0, 0, 0, 0);
    for (file, source) in SOURCES {
        for item in parse_source(source) {
            match item {
                Item::Struct { path, name, fields } => {
                    let full = full_name(&path, &name);
                    let Some(message) = protocol.messages.get(&full) else {
                        problems.push(format!("{file}: no message {full} in the protocol"));
                        continue;
                    };
                    checked.0 += 1;
                    for (attribute_text, field_name, rust_type) in &fields {
                        let attribute = parse_attribute(attribute_text);
                        let field_name = field_name.trim_start_matches("r#");
                        let context = format!("{file}: {name}.{field_name}");
                        if attribute.kind == "oneof" {
                            let oneof =
                                message.oneof_decl.iter().position(|o| o.name() == field_name);
                            let Some(index) = oneof else {
                                problems.push(format!("{context}: no such oneof"));
                                continue;
                            };
                            for tag in &attribute.tags {
                                let member = message.field.iter().find(|f| f.number() == *tag);
                                if member.and_then(|f| f.oneof_index) != Some(index as i32) {
                                    problems
                                        .push(format!("{context}: tag {tag} is not in the oneof"));
                                }
                            }
                            continue;
                        }
                        let Some(field) = message.field.iter().find(|f| f.name() == field_name)
                        else {
                            problems.push(format!("{context}: no such field"));
                            continue;
                        };
                        checked.1 += 1;
                        check_field(
                            &protocol,
                            &context,
                            &attribute,
                            rust_type,
                            field,
                            &mut problems,
                        );
                    }
                    // A request we send carries every field the protocol requires.
                    if name.ends_with("Request") {
                        for field in message.field.iter().filter(|f| f.label() == Label::Required) {
                            let present = fields
                                .iter()
                                .any(|(_, f, _)| f.trim_start_matches("r#") == field.name());
                            if !present {
                                problems.push(format!(
                                    "{file}: {name} lacks the required `{}`",
                                    field.name()
                                ));
                            }
                        }
                    }
                }
                Item::Oneof { path, variants } => {
                    let (parent_path, parent) = path.split_at(path.len() - 1);
                    let full = full_name(parent_path, &camel(&parent[0]));
                    let Some(message) = protocol.messages.get(&full) else {
                        problems.push(format!("{file}: no message {full} for oneof {path:?}"));
                        continue;
                    };
                    for (attribute_text, variant, rust_type) in &variants {
                        let attribute = parse_attribute(attribute_text);
                        let context = format!("{file}: {full}.{variant}");
                        let field =
                            message.field.iter().find(|f| Some(f.number()) == attribute.tag);
                        let Some(field) = field.filter(|f| f.oneof_index.is_some()) else {
                            problems.push(format!(
                                "{context}: tag {:?} is no oneof member",
                                attribute.tag
                            ));
                            continue;
                        };
                        if field.name() != snake(variant) {
                            problems.push(format!(
                                "{context}: the protocol names tag {} `{}`",
                                field.number(),
                                field.name()
                            ));
                        }
                        checked.2 += 1;
                        check_field(
                            &protocol,
                            &context,
                            &attribute,
                            rust_type,
                            field,
                            &mut problems,
                        );
                    }
                }
                Item::Enumeration { path, name, values } => {
                    let full = full_name(&path, &name);
                    let Some(e) = protocol.enums.get(&full) else {
                        problems.push(format!("{file}: no enum {full} in the protocol"));
                        continue;
                    };
                    let ours: HashMap<String, i32> =
                        values.iter().map(|(v, n)| (snake(v).to_uppercase(), *n)).collect();
                    let theirs: HashMap<String, i32> =
                        e.value.iter().map(|v| (v.name().to_owned(), v.number())).collect();
                    checked.3 += 1;
                    if ours != theirs {
                        problems.push(format!(
                            "{file}: enum {name} is {ours:?}, the protocol's is {theirs:?}"
                        ));
                    }
                }
            }
        }
    }
    // The hand-written FfiOwnedHandle (src/proto/handle.rs): `required uint64 id = 1`.
    let handle = &protocol.messages["livekit.proto.ffiownedhandle"];
    assert_eq!(handle.field.len(), 1);
    assert_eq!((handle.field[0].name(), handle.field[0].number()), ("id", 1));
    assert_eq!(
        (handle.field[0].r#type(), handle.field[0].label()),
        (Type::Uint64, Label::Required)
    );

    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    // The parser saw the files (a parser that reads nothing would pass the loop above).
    let (messages, fields, variants, enums) = checked;
    assert!(messages >= 100 && fields >= 240 && variants >= 85 && enums >= 12, "{checked:?}");
}

#[test]
fn the_check_catches_a_wrong_field() {
    // A wrong number, type, label or name fails: the comparison is not vacuous.
    let protocol = Protocol::load();
    let message = &protocol.messages["livekit.proto.connectrequest"];
    let token = message.field.iter().find(|f| f.name() == "token").expect("token");
    for (attribute, rust_type) in [
        (r#"#[prost(string, required, tag = "3")]"#, "String"),
        (r#"#[prost(bytes = "vec", required, tag = "2")]"#, "Vec<u8>"),
        (r#"#[prost(string, optional, tag = "2")]"#, "Option<String>"),
    ] {
        let mut problems = Vec::new();
        check_field(
            &protocol,
            "token",
            &parse_attribute(attribute),
            rust_type,
            token,
            &mut problems,
        );
        assert_eq!(problems.len(), 1, "{attribute}: {problems:?}");
    }
    let mut problems = Vec::new();
    check_field(
        &protocol,
        "token",
        &parse_attribute(r#"#[prost(string, required, tag = "2")]"#),
        "String",
        token,
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:?}");
}
