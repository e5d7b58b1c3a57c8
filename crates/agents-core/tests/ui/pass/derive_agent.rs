use agents_core::prelude::*;
use agents_core::voice::AgentDefinition;

const INSTRUCTIONS: &str = "Be brief.";

#[derive(Agent)]
#[agent(instructions = INSTRUCTIONS, id = "plain")]
struct Plain;

#[derive(Agent)]
#[agent(instructions = format!("{INSTRUCTIONS} Use tools."))]
struct WithTools {
    name: String,
}

#[function_tools]
impl WithTools {
    /// Say the name.
    #[function_tool]
    async fn name(&self) -> String {
        self.name.clone()
    }
}

#[async_trait]
impl AgentHooks for WithTools {
    async fn on_enter(&self, ctx: AgentContext) {
        ctx.session().say(format!("Hi, I am {}", self.name));
    }
}

fn main() {
    let plain = Plain.into_agent().expect("no tools");
    assert_eq!(plain.id(), "plain");
    assert!(plain.tools().is_empty());
    let with_tools = WithTools { name: "Ada".to_owned() }.into_agent().expect("unique tools");
    assert_eq!(with_tools.id(), "with_tools");
    assert_eq!(*with_tools.instructions(), "Be brief. Use tools.");
    assert!(with_tools.tools().contains("name"));
}
