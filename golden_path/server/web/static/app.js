// The Golden Path chat page: a browser client of protocol golden-path.v1 (docs/protocol.md).
//
// Plain JavaScript, no framework, no build step. What it shows a team how to do:
//   * log in over HTTP; tokens live in this page's memory only (never localStorage);
//   * open the WebSocket with a single-use ticket (POST /auth/ws-ticket, then /ws?ticket=...);
//   * render the run's events as they arrive, each keyed by its seq;
//   * reconnect when the network drops and send `resume` with the highest seq held,
//     so that nothing is shown twice and nothing is lost;
//   * offer the upgrade the server proposes, then `authenticate` the open socket with the
//     new token so the new tier applies at once.
// Every piece of server text reaches the page through textContent, never innerHTML.

"use strict";

const PROTOCOL = "golden-path.v1";
const RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 4000]; // then 4000 ms between attempts
const REFRESH_MARGIN_S = 60; // refresh the access token this long before it expires
const TIER_NAMES = {free: "Free", early: "Early", mid: "Mid", enterprise: "Enterprise"};
const TOOL_LABELS = {
  usage_analyzer: "Usage analyzer",
  cost_optimizer: "Cost optimizer",
  report_builder: "Report builder",
  advanced_analytics: "Advanced analytics",
};

// Everything the page knows. Tokens are here and nowhere else: a reload logs out.
const session = {
  email: null,
  accessToken: null,
  refreshToken: null,
  tier: null,
  refreshTimer: null,
  refreshing: null, // the refresh in progress: refreshes must not run concurrently (§3.3)
};

const stream = {
  ws: null,
  closing: false, // true when this page closes the socket on purpose (log out)
  attempt: 0, // reconnect attempts since the last connection_established
  reconnectTimer: null,
  base: null, // last_seq of the first connection: events up to it are history
  held: new Set(), // seqs above `base` that were received (the rendered ones among them)
  contiguous: 0, // every seq in (base, contiguous] is held: what `resume` asks after
  pending: new Map(), // request_id -> user_message frame not yet answered (resent on reconnect)
};

const view = {
  threadId: null, // the thread on screen; null for a new chat
  runs: new Map(), // run_id -> the run's <li>
};

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- DOM helpers

/** An element with attributes and children; strings become text nodes (never parsed as HTML). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function json(value) {
  return el("pre", {className: "json"}, JSON.stringify(value, null, 2));
}

function details(summary, value) {
  return el("details", {}, el("summary", {}, summary), json(value));
}

function tierName(tier) {
  return TIER_NAMES[tier] || String(tier);
}

function toolLabel(name) {
  return TOOL_LABELS[name] || String(name);
}

function formatNumber(n) {
  return typeof n === "number" ? n.toLocaleString("en-US") : String(n);
}

function formatMs(ms) {
  return typeof ms === "number" ? `${Math.round(ms).toLocaleString("en-US")} ms` : "";
}

function scrollToEnd() {
  const list = $("messages");
  list.scrollTop = list.scrollHeight;
}

function showBanner(text, kind = "info") {
  const banner = $("banner");
  banner.textContent = text;
  banner.dataset.kind = kind;
  banner.hidden = !text;
}

function setConnection(state, text) {
  const badge = $("connection");
  badge.dataset.state = state;
  badge.textContent = text || state;
  $("send").disabled = state !== "online";
}

// ---------------------------------------------------------------- HTTP

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function describeDetail(body, status) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((d) => `${(d.loc || []).slice(1).join(".") || "request"}: ${d.msg}`).join("; ");
  }
  return `the server answered ${status}`;
}

/** One JSON call; `auth` adds the bearer token, and a 401 is retried once after a refresh. */
async function api(method, path, body, {auth = true, retry = true} = {}) {
  const headers = {Accept: "application/json"};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth) headers.Authorization = `Bearer ${session.accessToken}`;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && auth && retry && session.refreshToken) {
    await refreshTokens();
    return api(method, path, body, {auth, retry: false});
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, describeDetail(data, response.status));
  return data;
}

// ---------------------------------------------------------------- tokens

function tierOf(accessToken) {
  // The tier claim, for display only: the server checks the token, this page never trusts it.
  try {
    const payload = accessToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).tier;
  } catch {
    return null;
  }
}

function useTokens(pair) {
  session.accessToken = pair.access_token;
  session.refreshToken = pair.refresh_token;
  session.tier = tierOf(pair.access_token) || session.tier;
  const tier = $("tier");
  tier.textContent = `${tierName(session.tier)} plan`;
  tier.dataset.tier = session.tier;
  tier.hidden = false;
  clearTimeout(session.refreshTimer);
  const delayS = Math.max(5, (pair.expires_in || 900) - REFRESH_MARGIN_S);
  session.refreshTimer = setTimeout(() => refreshTokens().catch(() => {}), delayS * 1000);
}

/** Rotate the token pair, then hand the new access token to the open socket. */
function refreshTokens() {
  if (!session.refreshing) {
    session.refreshing = (async () => {
      try {
        useTokens(await api("POST", "/auth/refresh", {refresh_token: session.refreshToken},
                            {auth: false}));
        sendFrame({type: "authenticate", token: session.accessToken});
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) signOut("Your session ended; log in again.");
        throw error;
      } finally {
        session.refreshing = null;
      }
    })();
  }
  return session.refreshing;
}

// ---------------------------------------------------------------- signing in and out

async function onAuthSubmit(event) {
  event.preventDefault();
  const action = event.submitter ? event.submitter.value : "login";
  const email = $("email").value.trim();
  const password = $("password").value;
  const error = $("auth-error");
  error.hidden = true;
  for (const button of document.querySelectorAll("#auth-form button")) button.disabled = true;
  try {
    if (action === "signup") {
      await api("POST", "/auth/signup", {email, password}, {auth: false});
    }
    const pair = await api("POST", "/auth/login", {email, password}, {auth: false});
    $("password").value = "";
    signIn(email, pair);
  } catch (failure) {
    error.textContent = failure instanceof ApiError ? failure.message : `Could not reach the server (${failure.message}).`;
    error.hidden = false;
  } finally {
    for (const button of document.querySelectorAll("#auth-form button")) button.disabled = false;
  }
}

function signIn(email, pair) {
  session.email = email;
  useTokens(pair);
  $("who").textContent = email;
  $("who").hidden = false;
  $("logout").hidden = false;
  $("auth").hidden = true;
  $("chat").hidden = false;
  newThread();
  loadThreads();
  connect();
  $("message").focus();
}

function signOut(message) {
  clearTimeout(session.refreshTimer);
  clearTimeout(stream.reconnectTimer);
  if (stream.ws) {
    stream.closing = true;
    stream.ws.close(1000);
  }
  Object.assign(session, {email: null, accessToken: null, refreshToken: null, tier: null});
  Object.assign(stream, {ws: null, attempt: 0, base: null, contiguous: 0});
  stream.held.clear();
  stream.pending.clear();
  $("messages").replaceChildren();
  $("thread-list").replaceChildren();
  $("who").hidden = true;
  $("tier").hidden = true;
  $("logout").hidden = true;
  $("chat").hidden = true;
  $("auth").hidden = false;
  setConnection("signed-out", "signed out");
  showBanner("");
  const error = $("auth-error");
  error.textContent = message || "";
  error.hidden = !message;
}

async function onLogout() {
  try {
    await api("POST", "/auth/logout", undefined, {retry: false});
  } catch {
    // Logged out locally whatever the server says; its tokens expire on their own.
  }
  signOut();
}

// ---------------------------------------------------------------- the WebSocket

function wsUrl(ticket) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws?ticket=${encodeURIComponent(ticket)}`;
}

/** Get a ticket over HTTP, then open the socket with it (§3.5, §4.1). */
async function connect() {
  clearTimeout(stream.reconnectTimer);
  setConnection("connecting", stream.attempt ? `reconnecting (attempt ${stream.attempt})` : "connecting");
  let ticket;
  try {
    ({ticket} = await api("POST", "/auth/ws-ticket"));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return; // signed out by the refresh
    scheduleReconnect();
    return;
  }
  if (!session.accessToken) return; // logged out meanwhile
  const ws = new WebSocket(wsUrl(ticket), [PROTOCOL]);
  stream.ws = ws;
  stream.closing = false;
  ws.addEventListener("message", (event) => {
    if (stream.ws === ws) onFrame(JSON.parse(event.data));
  });
  ws.addEventListener("close", (event) => {
    if (stream.ws === ws) onClose(event);
  });
}

function scheduleReconnect() {
  const delay = RECONNECT_DELAYS_MS[Math.min(stream.attempt, RECONNECT_DELAYS_MS.length - 1)];
  stream.attempt += 1;
  setConnection("reconnecting", `offline: reconnecting (attempt ${stream.attempt})`);
  stream.reconnectTimer = setTimeout(connect, delay);
}

function onClose(event) {
  stream.ws = null;
  if (stream.closing) return;
  const reason = event.reason || "";
  switch (event.code) {
    case 4403: // the Origin of this page is not on the server's allow-list: retrying cannot help
      setConnection("refused", "refused: origin not allowed");
      showBanner(
        `The server refused this page's origin (${location.origin}): it is not on its allow-list. ` +
          `Start the server with GOLDEN_PATH_ALLOWED_ORIGINS=${location.origin}`,
        "error",
      );
      return;
    case 4400:
      setConnection("refused", "closed: too many protocol errors");
      showBanner("The server closed the connection: too many protocol errors.", "error");
      return;
    case 4401: // expired, revoked or invalid: get a fresh token, then reconnect
      refreshTokens().then(() => scheduleReconnect(), () => {});
      setConnection("reconnecting", "re-authenticating");
      return;
    case 4429:
      showBanner(`${reason || "Too many open connections"}: close another tab or upgrade.`, "error");
      scheduleReconnect();
      return;
    default: // 1006 (network), 1001 (server stopping), 1011 (server trouble): reconnect and resume
      scheduleReconnect();
  }
}

function sendFrame(frame) {
  if (stream.ws && stream.ws.readyState === WebSocket.OPEN) {
    stream.ws.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

function onFrame(frame) {
  if (typeof frame.seq === "number") {
    onEvent(frame);
    return;
  }
  switch (frame.type) {
    case "connection_established":
      onEstablished(frame);
      break;
    case "error":
      onError(frame);
      break;
    case "authenticated":
      break; // the new token (after a refresh or an upgrade) now governs the socket
    case "pong":
      break;
    default:
      break; // frames a newer server may add are ignored
  }
}

function onEstablished(frame) {
  if (frame.protocol !== PROTOCOL) {
    showBanner(`The server speaks ${frame.protocol}, this page ${PROTOCOL}.`, "error");
  }
  const reconnected = stream.base !== null;
  if (!reconnected) {
    stream.base = frame.last_seq;
    stream.contiguous = frame.last_seq;
  } else {
    // Everything after the last seq held comes again, in order; copies already held are skipped.
    sendFrame({type: "resume", after_seq: stream.contiguous});
    // A message sent just before the drop may or may not have been admitted: the same
    // request_id either starts it now or replays its run (§6.3), never runs it twice.
    for (const message of stream.pending.values()) sendFrame(message);
  }
  stream.attempt = 0;
  setConnection("online", "online");
  if ($("banner").dataset.kind !== "upgrade") showBanner("");
}

// ---------------------------------------------------------------- events

function holdSeq(seq) {
  if (seq <= stream.base || stream.held.has(seq)) return false;
  stream.held.add(seq);
  while (stream.held.has(stream.contiguous + 1)) stream.contiguous += 1;
  return true;
}

function onEvent(event) {
  if (stream.base === null || !holdSeq(event.seq)) return; // history, or a copy already shown
  stream.pending.delete(event.request_id);
  if (event.type === "agent_started" && view.threadId === null && isOurs(event)) {
    view.threadId = event.thread_id; // the new chat got its thread
  }
  if (event.thread_id === view.threadId) renderEvent(event);
  if (event.type === "agent_started" || event.type === "agent_completed" || event.type === "agent_error") {
    loadThreads();
  }
}

function isOurs(event) {
  return document.querySelector(`li.msg.user[data-request-id="${CSS.escape(event.request_id)}"]`) !== null;
}

function runElement(event) {
  let run = view.runs.get(event.run_id);
  if (!run) {
    run = el("li", {className: "run", "data-run-id": event.run_id, "data-status": "running"},
             el("div", {className: "run-head"}, "Agent ", el("span", {className: "run-status"}, "working…")),
             el("ol", {className: "events"}));
    const asked = document.querySelector(`li.msg.user[data-request-id="${CSS.escape(event.request_id)}"]`);
    if (asked) asked.after(run);
    else $("messages").append(run);
    view.runs.set(event.run_id, run);
  }
  return run;
}

/** The event as one <li data-seq>, placed in its run's list in seq order. */
function renderEvent(event) {
  const run = runElement(event);
  const item = el("li", {className: `event ${event.type}`, "data-seq": event.seq, "data-type": event.type,
                         "data-tool-call-id": event.tool_call_id}, ...eventContent(event, run));
  const list = run.querySelector(".events");
  const later = [...list.children].find((child) => Number(child.dataset.seq) > event.seq);
  list.insertBefore(item, later || null);
  if (event.type === "agent_completed" || event.type === "agent_error") {
    const succeeded = event.type === "agent_completed";
    run.dataset.status = succeeded ? "succeeded" : "failed";
    run.querySelector(".run-status").textContent = succeeded
      ? `answered in ${formatMs(event.duration_ms)}`
      : "stopped";
  }
  scrollToEnd();
}

function eventContent(event, run) {
  switch (event.type) {
    case "agent_started":
      return [el("span", {className: "label"}, "Started"), " ", el("code", {}, event.run_id)];
    case "agent_thinking":
      return [el("span", {className: "label"}, `Thinking · step ${event.step}`), " ",
              el("span", {className: "reasoning"}, event.reasoning)];
    case "tool_executing":
      return [el("span", {className: "label"}, "Running tool"), " ",
              el("strong", {}, toolLabel(event.tool_name)), " ",
              details("parameters", event.parameters)];
    case "tool_completed": {
      const executing = run.querySelector(`li.tool_executing[data-tool-call-id="${CSS.escape(event.tool_call_id)}"]`);
      if (executing) executing.classList.add("done");
      return [el("span", {className: `label ${event.success ? "ok" : "failed"}`},
                 event.success ? "Tool result" : "Tool failed"), " ",
              el("strong", {}, toolLabel(event.tool_name)), ` in ${formatMs(event.duration_ms)} `,
              details("results", event.results)];
    }
    case "agent_completed":
      return [el("p", {className: "answer"}, event.final_response),
              el("p", {className: "usage"}, usageText(event.usage)),
              event.upgrade ? upgradePrompt(event.upgrade) : null];
    case "agent_error":
      return [el("p", {className: "run-error"},
                 `The run ended without an answer: ${event.message} (${event.code})`,
                 event.retryable ? " You can ask again." : "")];
    default:
      return [event.type];
  }
}

function usageText(usage) {
  if (!usage) return "";
  const cost = typeof usage.cost_usd === "number" ? usage.cost_usd.toFixed(6) : usage.cost_usd;
  return `Usage: ${formatNumber(usage.input_tokens)} input + ${formatNumber(usage.output_tokens)} ` +
    `output tokens · $${cost}`;
}

// ---------------------------------------------------------------- errors and upgrades

function onError(frame) {
  if (frame.request_id) stream.pending.delete(frame.request_id);
  const notice = el("li", {className: "notice error", "data-code": frame.code},
                    el("p", {}, errorText(frame)),
                    frame.upgrade ? upgradePrompt(frame.upgrade) : null);
  const asked = frame.request_id &&
    document.querySelector(`li.msg.user[data-request-id="${CSS.escape(frame.request_id)}"]`);
  if (asked) asked.after(notice);
  else $("messages").append(notice);
  scrollToEnd();
}

function errorText(frame) {
  switch (frame.code) {
    case "quota_exceeded":
      return `Daily limit reached: ${frame.message}`;
    case "rate_limited":
      return `Slow down: ${frame.message}. Try again in ${Math.ceil((frame.retry_after_ms || 0) / 1000)} s.`;
    case "concurrency_limit":
      return `Wait for the answer in progress: ${frame.message}`;
    case "unavailable":
      return `The server is busy: ${frame.message}`;
    default:
      return frame.message || frame.code;
  }
}

function upgradePrompt(upgrade) {
  const button = el("button", {type: "button", className: "upgrade-button", "data-tier": upgrade.required_tier},
                    `Upgrade to ${tierName(upgrade.required_tier)}`);
  const box = el("div", {className: "upgrade", "data-required-tier": upgrade.required_tier,
                         "data-feature": upgrade.feature},
                 el("p", {}, upgrade.message), button);
  button.addEventListener("click", () => upgradeTo(upgrade.required_tier, box));
  return box;
}

async function upgradeTo(tier, box) {
  for (const button of document.querySelectorAll(".upgrade-button")) button.disabled = true;
  try {
    useTokens(await api("POST", "/billing/upgrade", {tier}));
    // The open socket keeps its old token's tier until it is told about the new one (§2).
    sendFrame({type: "authenticate", token: session.accessToken});
    for (const prompt of document.querySelectorAll(".upgrade")) {
      prompt.replaceChildren(el("p", {className: "upgraded"}, `You are on the ${tierName(session.tier)} plan now.`));
    }
    showBanner(`Upgraded to the ${tierName(session.tier)} plan.`, "upgrade");
  } catch (error) {
    box.append(el("p", {className: "error"}, `The upgrade failed: ${error.message}`));
  } finally {
    for (const button of document.querySelectorAll(".upgrade-button")) button.disabled = false;
  }
}

// ---------------------------------------------------------------- messages and threads

function onSend(event) {
  event.preventDefault();
  const box = $("message");
  const content = box.value.trim();
  if (!content) return;
  const frame = {type: "user_message", content, request_id: crypto.randomUUID()};
  if (view.threadId) frame.thread_id = view.threadId;
  if (!sendFrame(frame)) {
    showBanner("Not connected: the message was not sent.", "error");
    return;
  }
  stream.pending.set(frame.request_id, frame);
  $("messages").append(el("li", {className: "msg user", "data-request-id": frame.request_id}, content));
  box.value = "";
  scrollToEnd();
}

function onComposerKey(event) {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
}

function newThread() {
  view.threadId = null;
  view.runs.clear();
  $("messages").replaceChildren();
  markCurrentThread();
}

async function loadThreads() {
  let page;
  try {
    page = await api("GET", "/threads?limit=50");
  } catch {
    return; // the list refreshes again after the next run
  }
  const list = $("thread-list");
  list.replaceChildren(...page.threads.map((thread) =>
    el("li", {"data-thread-id": thread.thread_id},
       el("button", {type: "button", className: "thread", title: thread.title,
                     onclick: () => openThread(thread.thread_id)}, thread.title))));
  $("no-threads").hidden = page.threads.length > 0;
  markCurrentThread();
}

function markCurrentThread() {
  for (const item of $("thread-list").children) {
    if (item.dataset.threadId === view.threadId) item.setAttribute("aria-current", "true");
    else item.removeAttribute("aria-current");
  }
}

/** A past thread: its messages, read back over HTTP (GET /threads/{id}). */
async function openThread(threadId) {
  let thread;
  try {
    thread = await api("GET", `/threads/${encodeURIComponent(threadId)}`);
  } catch (error) {
    showBanner(`Could not open the thread: ${error.message}`, "error");
    return;
  }
  view.threadId = thread.thread_id;
  view.runs.clear();
  $("messages").replaceChildren(...thread.messages.map((message) =>
    el("li", {className: `msg ${message.role}`, "data-message-id": message.message_id}, message.content)));
  markCurrentThread();
  scrollToEnd();
}

// ---------------------------------------------------------------- start

document.addEventListener("DOMContentLoaded", () => {
  $("auth-form").addEventListener("submit", onAuthSubmit);
  $("logout").addEventListener("click", onLogout);
  $("composer").addEventListener("submit", onSend);
  $("message").addEventListener("keydown", onComposerKey);
  $("new-thread").addEventListener("click", () => {
    newThread();
    $("message").focus();
  });
  $("email").focus();
});
