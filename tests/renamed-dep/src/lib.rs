//! An agent written against the `voice-agents-core` package renamed to `lk`, with no serde or
//! schemars dependency of its own: the macros must resolve every path through `lk`.

use lk::prelude::*;

/// Arguments of a builder tool, derived through the re-exported crates.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(crate = "lk::serde")]
#[schemars(crate = "lk::schemars")]
pub struct Order {
    /// What to order.
    pub item: String,
    /// How many.
    pub quantity: Option<u32>,
}

/// An agent type with method tools.
#[derive(Agent)]
#[agent(instructions = "You run a shop.", id = "shop")]
pub struct Shop;

/// An agent type naming the renamed crate itself.
#[derive(Agent)]
#[agent(crate = "lk", instructions = "You keep the books.")]
pub struct Books;

#[function_tools]
impl Shop {
    /// Check whether an item is in stock.
    #[function_tool]
    pub async fn in_stock(
        &self,
        ctx: RunContext,
        /// The item to check.
        item: String,
        #[arg(default = 1)] quantity: u32,
    ) -> Result<String, ToolError> {
        Ok(format!("{} x{quantity} in stock ({})", item, ctx.function_call().call_id))
    }
}

/// A free function tool.
#[lk::function_tool(name = "place_order")]
pub async fn order(order: String) -> String {
    format!("ordered {order}")
}

/// A builder tool taking a derived arguments struct.
pub async fn order_many(args: Order) -> String {
    format!("ordered {} x{}", args.item, args.quantity.unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn macros_and_builder_work_through_a_renamed_dependency() {
        let mut tools = Arc::new(Shop).function_tools();
        tools.push(order_tool());
        tools.push(function_tool(order_many, "order_many", "Order several.").expect("valid"));
        let tools = ToolSet::new(tools).expect("unique names");
        assert_eq!(tools.names().collect::<Vec<_>>(), ["in_stock", "place_order", "order_many"]);

        let ctx = |name: &str, args: &str| RunContext::new(FunctionCall::new("c1", name, args));
        let stock = tools.invoke(ctx("in_stock", r#"{"item": "tea"}"#)).await.expect("runs");
        assert_eq!(stock.output, "tea x1 in stock (c1)");
        let many = tools.invoke(ctx("order_many", r#"{"item": "tea", "quantity": 3}"#)).await;
        assert_eq!(many.expect("runs").output, "ordered tea x3");
        let schema = tools.get("order_many").expect("present").parameters();
        assert_eq!(schema["properties"]["item"]["description"], "What to order.");
    }

    #[test]
    fn derive_agent_works_through_a_renamed_dependency() {
        let shop = Shop.into_agent().expect("valid agent");
        assert_eq!(shop.id(), "shop");
        assert_eq!(shop.tools().names().collect::<Vec<_>>(), ["in_stock"]);
        let books = Books.into_agent().expect("valid agent");
        assert_eq!(books.id(), "books");
        assert!(books.tools().is_empty());
    }
}
