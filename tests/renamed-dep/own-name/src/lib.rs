//! An agent written against the `voice-agents-core` package depended on under its own name:
//! code writes the library name, `agents_core`, and so must the macros' generated code
//! (the package name, `voice_agents_core`, names no crate).

use agents_core::prelude::*;

/// An agent type with method tools.
#[derive(Agent)]
#[agent(instructions = "You run a shop.", id = "shop")]
pub struct Shop;

#[function_tools]
impl Shop {
    /// Check whether an item is in stock.
    #[function_tool]
    pub async fn in_stock(
        &self,
        /// The item to check.
        item: String,
        #[arg(default = 1)] quantity: u32,
    ) -> Result<String, ToolError> {
        Ok(format!("{item} x{quantity} in stock"))
    }
}

/// A free function tool.
#[function_tool(name = "place_order")]
pub async fn order(order: String) -> String {
    format!("ordered {order}")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn macros_work_through_the_package_under_its_own_name() {
        let mut tools = Arc::new(Shop).function_tools();
        tools.push(order_tool());
        let tools = ToolSet::new(tools).expect("unique names");
        assert_eq!(tools.names().collect::<Vec<_>>(), ["in_stock", "place_order"]);

        let ctx = |name: &str, args: &str| RunContext::new(FunctionCall::new("c1", name, args));
        let stock = tools.invoke(ctx("in_stock", r#"{"item": "tea"}"#)).await.expect("runs");
        assert_eq!(stock.output, "tea x1 in stock");
        let order = tools.invoke(ctx("place_order", r#"{"order": "tea"}"#)).await.expect("runs");
        assert_eq!(order.output, "ordered tea");
    }

    #[test]
    fn derive_agent_works_through_the_package_under_its_own_name() {
        let shop = Shop.into_agent().expect("valid agent");
        assert_eq!(shop.id(), "shop");
        assert_eq!(shop.tools().names().collect::<Vec<_>>(), ["in_stock"]);
    }
}
