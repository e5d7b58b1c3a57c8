//! Two agents handing the conversation over through a tool (LiveKit's Python multi-agent
//! examples).
//!
//! **What it shows.** A `Reception` agent greets the caller and, once it knows their name and
//! that they have a billing question, calls its `transfer_to_billing` tool. The tool returns
//! the next agent, with a line for the model (`(Agent, &str)`: Python's returning
//! `(agent, "...")`): the session hands over to `Billing`, whose instructions are built from
//! what reception learned (the caller's name, a field of the agent) and who starts from the
//! conversation so far (`with_chat_ctx`). From then on the model gets Billing's instructions
//! and Billing's tools (`invoice_status`) instead of Reception's.
//!
//! **What it needs.** `LIVEKIT_API_KEY` and `LIVEKIT_API_SECRET` (in the environment or a
//! `.env` file) for LiveKit Inference, plus `LIVEKIT_URL` for `dev`. The text console needs
//! nothing else.
//!
//! **Run it.**
//!
//! ```text
//! cargo run --example handoff -- console --text
//! ```
//!
//! Then say "I'm Ada and I have a question about my invoice", then "is invoice 1042 paid?".

use std::process::ExitCode;

use agents_core::prelude::*;
// Model strings ("openai/gpt-4.1-mini") become LiveKit Inference clients through this crate.
use agents_inference as _;

#[derive(Agent)]
#[agent(instructions = "You are the receptionist of Acme Corp. Greet the caller, ask for their \
    name and what they need. When they have a billing question, transfer them to billing.")]
struct Reception;

#[function_tools]
impl Reception {
    /// Transfer the caller to the billing department, once you know their name.
    #[function_tool]
    async fn transfer_to_billing(
        &self,
        ctx: RunContext,
        /// The caller's first name.
        name: String,
    ) -> Result<(Agent, String), ToolError> {
        // The billing agent continues the conversation where reception left it.
        let history = ctx.session().map(AgentSession::history).unwrap_or_default();
        let billing = Billing { caller: name }.into_agent()?.with_chat_ctx(history);
        Ok((billing, "Transferring you to billing now.".to_owned()))
    }
}

#[async_trait]
impl AgentHooks for Reception {
    async fn on_enter(&self, ctx: AgentContext) {
        ctx.session().generate_reply(ReplyOptions::default());
    }
}

#[derive(Agent)]
#[agent(instructions = format!("You work in Acme Corp's billing department and are talking \
    with {}. Answer questions about their invoices with your tools.", self.caller))]
struct Billing {
    caller: String,
}

#[function_tools]
impl Billing {
    /// Look up whether an invoice is paid.
    #[function_tool]
    async fn invoice_status(
        &self,
        /// The invoice number.
        invoice: u32,
    ) -> String {
        // A stand-in for a billing system.
        if invoice.is_multiple_of(2) {
            format!("Invoice {invoice} of {} was paid on March 3.", self.caller)
        } else {
            format!("Invoice {invoice} of {} is due on April 30.", self.caller)
        }
    }
}

#[async_trait]
impl AgentHooks for Billing {
    async fn on_enter(&self, ctx: AgentContext) {
        ctx.session().generate_reply(ReplyOptions::default());
    }
}

async fn entrypoint(ctx: JobContext) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let session = AgentSession::builder()
        .stt("deepgram/nova-3")
        .llm("openai/gpt-4.1-mini")
        .tts("cartesia/sonic-3:9626c31c-bec5-4cca-baa8-f8ba9e84c8bc")
        .build();
    session.start(Reception.into_agent()?).room(ctx.room()).await?;
    ctx.connect().await?;
    Ok(())
}

fn main() -> ExitCode {
    cli::run_app(AgentServer::new().rtc_session(entrypoint))
}
