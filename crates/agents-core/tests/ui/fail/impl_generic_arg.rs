use agents_core::prelude::*;

struct Store<S> {
    items: std::sync::Mutex<Vec<S>>,
}

#[function_tools]
impl<S: Send + Sync + 'static> Store<S> {
    /// Store an item.
    #[function_tool]
    async fn put(&self, item: S) {
        self.items.lock().unwrap().push(item);
    }
}

fn main() {}
