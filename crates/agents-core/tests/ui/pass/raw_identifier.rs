//! Raw identifiers: the tool and the JSON property drop the `r#`.

use agents_core::prelude::*;

/// Look up a word.
#[function_tool]
async fn r#match(
    /// The kind of word.
    r#type: String,
) -> String {
    r#type
}

fn main() {
    let tool = match_tool();
    assert_eq!(tool.name(), "match");
    let properties = &tool.parameters()["properties"];
    assert!(properties.get("type").is_some(), "{properties}");
    assert_eq!(properties["type"]["description"], "The kind of word.");
}
