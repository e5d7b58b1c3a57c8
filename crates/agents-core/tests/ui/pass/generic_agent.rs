//! A generic agent type whose tool arguments are concrete.

use agents_core::prelude::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

struct Store<S> {
    items: Mutex<HashMap<String, S>>,
}

#[function_tools]
impl<S: Send + Sync + 'static> Store<S> {
    /// How many items are stored.
    #[function_tool]
    async fn count(&self) -> usize {
        self.items.lock().map(|items| items.len()).unwrap_or(0)
    }

    /// Whether an item is stored.
    #[function_tool]
    async fn contains(&self, key: String) -> bool {
        self.items.lock().map(|items| items.contains_key(&key)).unwrap_or(false)
    }

    /// Not a tool: helpers may use the impl's generics freely.
    fn insert(&self, key: String, value: S) {
        if let Ok(mut items) = self.items.lock() {
            items.insert(key, value);
        }
    }
}

fn main() {
    let store = Arc::new(Store { items: Mutex::new(HashMap::new()) });
    store.insert("a".to_owned(), vec![1u8]);
    let tools = store.function_tools();
    let names: Vec<&str> = tools.iter().map(FunctionTool::name).collect();
    assert_eq!(names, ["count", "contains"]);
    assert_eq!(tools[1].parameters()["required"], agents_core::serde_json::json!(["key"]));
}
