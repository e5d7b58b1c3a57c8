//! One reply: LLM steps, the tool calls they make, and the follow-up steps.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::task::JoinSet;

use super::core::{SessionCore, in_current_run};
use super::events::{
    AgentMetrics, AgentState, ErrorSource, LlmMetrics, SessionErrorEvent, SessionEvent,
};
use super::instructions::{initial_context, refresh_instructions};
use super::options::ReplyOptions;
use super::speaker::Speaker;
use super::speech::SpeechHandle;
use crate::agent::Agent;
use crate::agent::{AgentContext, ModelSettings, StopResponse};
use crate::llm::{
    ChatChunk, ChatContext, ChatItem, ChatMessage, ChatRole, CompletionUsage, FunctionCall,
    FunctionCallOutput, LlmStream, RunContext, ToolChoice, ToolError, ToolOutput, ToolSet,
};

/// What one tool call produced.
struct Executed {
    call: FunctionCall,
    output: FunctionCallOutput,
    reply_required: bool,
    handoff: Option<Agent>,
}

/// Runs one reply to completion (or interruption).
pub(crate) async fn run_reply(
    core: &Arc<SessionCore>,
    handle: &SpeechHandle,
    agent: &Agent,
    options: ReplyOptions,
) {
    let ctx = AgentContext { session: core.session(), agent: agent.clone() };
    // The reply's conversation, copied from the agent's once: every step appends to it, and
    // every step's request is it (with the instructions refreshed first).
    let mut reply_ctx = initial_context(agent);
    // An LLM request started on the transcript before the end of the turn, if any.
    let mut preemptive = options.user_input.as_deref().and_then(|text| core.take_preemptive(text));
    if let Some(text) = options.user_input.clone() {
        let message = ChatMessage::new(ChatRole::User, text);
        reply_ctx.push(message.clone());
        let hook = agent.hooks().on_user_turn_completed(ctx.clone(), &mut reply_ctx, &message);
        let outcome = tokio::select! {
            biased;
            () = handle.wait_for_interruption() => return,
            outcome = hook => outcome,
        };
        if outcome == Err(StopResponse) {
            return;
        }
        core.commit(ChatItem::Message(message), Some(agent));
    }
    if let Some(extra) = options.instructions.as_deref() {
        reply_ctx.push(ChatMessage::new(ChatRole::System, extra));
    }

    let max_tool_steps = core.options.max_tool_steps;
    let mut step: u32 = 1;
    let mut tool_choice = options.tool_choice.clone();
    let mut tools_disallowed = matches!(tool_choice, Some(ToolChoice::None));
    loop {
        // A fresh snapshot for every step: a tool, or a toolset, may have changed the tools.
        let tools = core.offered_tools(agent);
        refresh_instructions(agent, &mut reply_ctx);
        let settings = ModelSettings { tool_choice: tool_choice.clone() };
        core.set_agent_state(AgentState::Thinking);
        // The end-to-end latency counts from the end of speech to the first step's audio.
        let end_of_speech = if step == 1 { options.end_of_speech } else { None };
        let prepared = match (preemptive.take(), &options.tool_choice) {
            (Some(preemptive), None) => preemptive.into_stream_for(agent, &tools, &reply_ctx),
            _ => None,
        };
        let outcome = stream_step(
            core,
            handle,
            &ctx,
            &reply_ctx,
            &tools,
            &settings,
            Step { number: step, end_of_speech, prepared },
        )
        .await;
        let StepOutcome { item_id, text, calls, mut executions, interrupted, failed } = outcome;

        if !text.is_empty() {
            let mut message = ChatMessage::new(ChatRole::Assistant, text);
            message.id = item_id;
            // A stream that broke off mid-reply was cut short as surely as an interruption.
            message.interrupted = interrupted || failed;
            reply_ctx.push(message.clone());
            core.commit(ChatItem::Message(message), Some(agent));
        }
        if interrupted {
            executions.shutdown().await;
            return;
        }

        let mut executed = Vec::with_capacity(calls.len());
        // By the position of their call in the model's answer: the history keeps that order,
        // whatever order the tools finish in.
        let mut finished: Vec<Option<Executed>> = Vec::new();
        finished.resize_with(calls.len(), || None);
        let mut interrupted_during_tools = false;
        if tools_disallowed && !calls.is_empty() {
            // The model called tools although it was told not to: record each call with an
            // error output, so the history stays valid, and report it.
            let names: Vec<&str> = calls.iter().map(|call| call.name.as_str()).collect();
            core.report_error(
                SessionErrorEvent::UnexpectedToolCalls { names: names.join(", ") },
                ErrorSource::ToolCall,
            );
            for call in calls {
                let output = FunctionCallOutput::new(
                    call.call_id.clone(),
                    call.name.clone(),
                    "Tool calls are not allowed in this reply: the tool was not run.",
                    true,
                );
                executed.push(Executed { call, output, reply_required: false, handoff: None });
            }
        } else {
            loop {
                let next = tokio::select! {
                    biased;
                    () = handle.wait_for_interruption() => {
                        // Interrupted while tools run: the unfinished ones are cancelled; the
                        // finished ones are committed, without asking for a reply.
                        executions.shutdown().await;
                        for done in finished.iter_mut().flatten() {
                            done.reply_required = false;
                            done.handoff = None;
                        }
                        interrupted_during_tools = true;
                        break;
                    }
                    next = executions.join_next() => next,
                };
                match next {
                    Some(Ok((position, done))) => {
                        if let Some(slot) = finished.get_mut(position) {
                            *slot = Some(done);
                        }
                    }
                    Some(Err(join_error)) => tracing::error!("a tool task failed: {join_error}"),
                    None => break,
                }
            }
            executed.extend(finished.into_iter().flatten());
        }
        if executed.is_empty() {
            return;
        }

        // As the model said it: its calls (one assistant message on the wire, with the text
        // before them), then their outputs, both in the order of the calls.
        for done in &executed {
            reply_ctx.push(ChatItem::FunctionCall(done.call.clone()));
            core.commit(ChatItem::FunctionCall(done.call.clone()), Some(agent));
        }
        for done in &executed {
            reply_ctx.push(ChatItem::FunctionCallOutput(done.output.clone()));
            core.commit(ChatItem::FunctionCallOutput(done.output.clone()), Some(agent));
        }
        core.emit(SessionEvent::FunctionToolsExecuted {
            function_calls: executed.iter().map(|done| done.call.clone()).collect(),
            function_call_outputs: executed.iter().map(|done| done.output.clone()).collect(),
        });

        // After a failed LLM step, the tools that already ran are recorded (above) so the
        // model won't call them again, but no reply is asked for.
        if interrupted_during_tools || failed {
            return;
        }
        let handoffs: Vec<&Agent> =
            executed.iter().filter_map(|done| done.handoff.as_ref()).collect();
        let reply_required = executed.iter().any(|done| done.reply_required);
        if let [new_agent] = handoffs.as_slice() {
            if reply_required && !tools_disallowed {
                // Python: the old agent answers once more, without tools, then hands off.
                final_reply(core, handle, &ctx, agent, &mut reply_ctx, step + 1).await;
            }
            core.update_agent((*new_agent).clone());
            return;
        }
        if !reply_required || tools_disallowed {
            return;
        }
        let max_steps_reached = step > max_tool_steps;
        step += 1;
        if max_steps_reached {
            tracing::warn!(
                max_tool_steps,
                "maximum number of function calls steps reached, generating the final response \
                 with tool_choice none"
            );
            tool_choice = Some(ToolChoice::None);
            tools_disallowed = true;
        } else {
            tool_choice = match options.tool_choice {
                Some(ToolChoice::None) => Some(ToolChoice::None),
                _ => Some(ToolChoice::Auto),
            };
        }
    }
}

/// One more step without tools, for the old agent's last words before a handoff.
async fn final_reply(
    core: &Arc<SessionCore>,
    handle: &SpeechHandle,
    ctx: &AgentContext,
    agent: &Agent,
    reply_ctx: &mut ChatContext,
    step: u32,
) {
    refresh_instructions(agent, reply_ctx);
    let settings = ModelSettings { tool_choice: Some(ToolChoice::None) };
    let tools = core.offered_tools(agent);
    core.set_agent_state(AgentState::Thinking);
    let outcome = stream_step(
        core,
        handle,
        ctx,
        reply_ctx,
        &tools,
        &settings,
        Step { number: step, end_of_speech: None, prepared: None },
    )
    .await;
    if !outcome.text.is_empty() {
        let mut message = ChatMessage::new(ChatRole::Assistant, outcome.text);
        message.id = outcome.item_id;
        message.interrupted = outcome.interrupted || outcome.failed;
        reply_ctx.push(message.clone());
        core.commit(ChatItem::Message(message), Some(agent));
    }
}

/// Which step of a reply this is.
struct Step {
    /// 1 for the first LLM request of the reply.
    number: u32,
    /// When the user stopped speaking, for a spoken turn's first step (end-to-end latency).
    end_of_speech: Option<tokio::time::Instant>,
    /// The answer of a preemptive request, to use instead of asking the LLM.
    prepared: Option<LlmStream>,
}

struct StepOutcome {
    /// The id of the step's message (given to the audio output before its words).
    item_id: String,
    text: String,
    calls: Vec<FunctionCall>,
    /// The running calls, each with its position in `calls`.
    executions: JoinSet<(usize, Executed)>,
    interrupted: bool,
    failed: bool,
}

/// Streams one LLM step; starts every tool call as soon as it arrives.
async fn stream_step(
    core: &Arc<SessionCore>,
    handle: &SpeechHandle,
    ctx: &AgentContext,
    request_ctx: &ChatContext,
    tools: &ToolSet,
    settings: &ModelSettings,
    step: Step,
) -> StepOutcome {
    let Step { number: step, end_of_speech, prepared } = step;
    let started = Instant::now();
    let mut ttft: Option<Duration> = None;
    let mut usage = CompletionUsage::default();
    let mut outcome = StepOutcome {
        item_id: crate::llm::new_id("item"),
        text: String::new(),
        calls: Vec::new(),
        executions: JoinSet::new(),
        interrupted: false,
        failed: false,
    };
    let tools_allowed = !matches!(settings.tool_choice, Some(ToolChoice::None));
    let mut stream = match prepared {
        Some(prepared) => prepared,
        None => ctx.agent().hooks().llm_node(ctx, request_ctx, tools, settings),
    };
    // With a TTS and an audio output, the text is spoken as it streams.
    let mut speaker = core.voice().map(|(tts, output)| {
        Speaker::new(tts, output, &outcome.item_id).with_end_of_speech(end_of_speech)
    });
    loop {
        let next = tokio::select! {
            biased;
            () = handle.wait_for_interruption() => {
                outcome.interrupted = true;
                break;
            }
            audio = next_audio(&mut speaker) => {
                if let Some(speaker) = speaker.as_mut() {
                    speaker.play(core, handle, audio).await;
                }
                continue;
            }
            next = stream.next() => next,
        };
        let Some(next) = next else { break };
        if ttft.is_none() {
            ttft = Some(started.elapsed());
        }
        match next {
            Ok(ChatChunk::Text(delta)) => {
                match speaker.as_mut() {
                    Some(speaker) => speaker.push_text(&delta),
                    None if outcome.text.is_empty() => core.set_agent_state(AgentState::Speaking),
                    None => {}
                }
                outcome.text.push_str(&delta);
            }
            Ok(ChatChunk::ToolCall(call)) => {
                if tools_allowed {
                    core.emit(SessionEvent::FunctionToolStarted { function_call: call.clone() });
                    let position = outcome.calls.len();
                    let execution =
                        execute(Arc::clone(core), handle.clone(), tools.clone(), call.clone());
                    outcome
                        .executions
                        .spawn(in_current_run(async move { (position, execution.await) }));
                }
                outcome.calls.push(call);
            }
            Ok(ChatChunk::Usage(reported)) => usage = reported,
            Err(error) => {
                outcome.failed = true;
                core.report_error(SessionErrorEvent::Llm(error), ErrorSource::Llm);
                break;
            }
        }
    }
    let llm_duration = started.elapsed();
    if let Some(mut speaker) = speaker {
        let cancelled = outcome.interrupted || outcome.failed;
        let playback =
            if cancelled { speaker.stop().await } else { speaker.finish(core, handle).await };
        speaker.report(core, cancelled || playback.interrupted || handle.interrupted());
        if playback.interrupted || handle.interrupted() {
            // What the user did not hear was not said.
            outcome.interrupted = true;
            outcome.text = speaker.heard(&outcome.text, playback).to_owned();
        }
    }
    core.emit(SessionEvent::MetricsCollected {
        metrics: AgentMetrics::Llm(LlmMetrics {
            ttft,
            duration: llm_duration,
            usage,
            cancelled: outcome.interrupted,
            step,
        }),
    });
    outcome
}

/// The next audio of the speaker, if there is one; never resolves otherwise.
async fn next_audio(
    speaker: &mut Option<Speaker>,
) -> Option<Result<crate::tts::SynthesizedAudio, crate::tts::TtsError>> {
    match speaker.as_mut() {
        Some(speaker) => speaker.next_audio().await,
        None => std::future::pending().await,
    }
}

/// Executes one call against the snapshot it was offered (or its mock).
async fn execute(
    core: Arc<SessionCore>,
    handle: SpeechHandle,
    tools: ToolSet,
    call: FunctionCall,
) -> Executed {
    let started = Instant::now();
    let ctx = RunContext::in_session(call.clone(), core.session(), handle);
    let mock = core.mocks().get(&call.name);
    let result = match (mock, tools.get(&call.name)) {
        (Some(mock), Some(tool)) => match tool.parse_arguments(&call.arguments) {
            Ok(arguments) => mock.call(ctx, arguments).await,
            Err(error) => Err(error),
        },
        _ => tools.invoke(ctx).await,
    };
    let (text, is_error, reply_required, handoff) = match result {
        Ok(output) => {
            let ToolOutput { output, reply_required, handoff, .. } = output;
            (output, false, reply_required, handoff)
        }
        Err(ToolError::StopResponse) => (String::new(), false, false, None),
        Err(error) => {
            if !matches!(error, ToolError::Message(_)) {
                tracing::warn!(tool = %call.name, "tool call failed: {error}");
            }
            (error.llm_message(), true, true, None)
        }
    };
    let output = FunctionCallOutput::new(call.call_id.clone(), call.name.clone(), text, is_error);
    core.emit(SessionEvent::FunctionToolFinished {
        function_call: Box::new(call.clone()),
        output: Box::new(output.clone()),
        duration: started.elapsed(),
    });
    Executed { call, output, reply_required, handoff }
}
