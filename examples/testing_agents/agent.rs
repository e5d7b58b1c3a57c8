//! The agent under test: a barista that takes coffee orders with two tools.

use std::sync::Mutex;

use agents_core::prelude::*;

/// A drink on the menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Drink {
    Espresso,
    Latte,
    FlatWhite,
    Mocha,
}

/// A cup size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Size {
    Small,
    Medium,
    Large,
}

/// The coffee shop's agent; it keeps the order it took.
#[derive(Agent, Default)]
#[agent(instructions = "You are the barista of a coffee shop. Take the customer's order with \
    `add_to_order`, one drink at a time, and read the order back with `order_summary` before \
    they pay. If a drink is sold out, apologise and suggest another one.")]
pub(crate) struct Barista {
    order: Mutex<Vec<(Drink, Size)>>,
}

#[function_tools]
impl Barista {
    /// Add a drink to the customer's order.
    #[function_tool]
    async fn add_to_order(
        &self,
        /// The drink.
        drink: Drink,
        /// The size; medium if the customer did not say.
        size: Option<Size>,
    ) -> Result<String, ToolError> {
        if drink == Drink::Mocha {
            return Err(ToolError::message("mocha is sold out today"));
        }
        let size = size.unwrap_or(Size::Medium);
        let mut order = self.order.lock().map_err(|_| ToolError::message("the order is lost"))?;
        order.push((drink, size));
        Ok(format!("added a {size:?} {drink:?}; {} drink(s) in the order", order.len()))
    }

    /// The drinks ordered so far.
    #[function_tool]
    async fn order_summary(&self) -> Result<Vec<OrderLine>, ToolError> {
        let order = self.order.lock().map_err(|_| ToolError::message("the order is lost"))?;
        Ok(order.iter().map(|&(drink, size)| OrderLine { drink, size }).collect())
    }
}

/// One line of the order, as the model reads it (JSON).
#[derive(Debug, Serialize)]
pub(crate) struct OrderLine {
    /// The drink.
    pub(crate) drink: Drink,
    /// Its size.
    pub(crate) size: Size,
}
