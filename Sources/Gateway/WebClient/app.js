// The page: signing in, the sidebar of channels with unread markers and mention
// badges, the open channel's messages, the composer. Read states follow the server:
// opening a channel (page visible) acks its newest message, a message arriving in the
// open channel is acked as it arrives, MESSAGE_ACK from another device updates the
// page, and "mark unread" keeps the channel unread until it is opened again.

import { GatewayConnection } from "./gateway.js";
import { ReadStates, snowflake } from "./readstates.js";

const TOKEN_KEY = "readstates.token";
const $ = (id) => document.getElementById(id);

let model = new ReadStates();
let gateway = null;
let openId = null;
/// Channels marked unread while open: not acked again until opened again.
const keptUnread = new Set();
/// Messages arriving in the open channel are acked once they stop coming for this
/// long (the newest then), not one ack per message: every client payload counts
/// against the gateway's rate limit (120 a minute).
const ACK_DELAY_MS = 1000;
let ackTimer = null;

function takeToken() {
  // The token travels in the fragment (never in a request line or a log) and leaves
  // the address bar at once; it lives in this tab's sessionStorage.
  const match = location.hash.match(/token=([^&]+)/);
  if (match) {
    let token = match[1];
    try {
      token = decodeURIComponent(token);
    } catch {
      // A malformed escape: the token as it stands (the gateway will judge it).
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function gatewayURL() {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/gateway`;
}

/// Forgets everything of the signed-in user: a new sign-in starts from nothing.
function reset() {
  gateway?.stop();
  gateway = null;
  clearTimeout(ackTimer);
  model = new ReadStates();
  openId = null;
  keptUnread.clear();
  $("channels").replaceChildren();
  $("messages").replaceChildren();
  $("channel-name").textContent = "Pick a channel";
  $("me").textContent = "";
  $("mark-unread").disabled = true;
  document.title = "readstates";
}

function showSignIn(message) {
  $("chat").hidden = true;
  $("sign-out").hidden = true;
  $("sign-in").hidden = false;
  $("sign-in-message").textContent = message ?? "";
  $("token").focus();
}

function start(token) {
  $("sign-in").hidden = true;
  $("chat").hidden = false;
  $("sign-out").hidden = false;
  gateway = new GatewayConnection(gatewayURL(), token);
  gateway.addEventListener("state", (event) => {
    const { state, code } = event.detail;
    const indicator = $("connection");
    indicator.dataset.state = state;
    indicator.textContent = state;
    if (state === "unauthorized") {
      reset();
      sessionStorage.removeItem(TOKEN_KEY);
      showSignIn(`The gateway refused this token (close ${code}). Paste a valid one.`);
    }
    $("composer").disabled = state !== "connected" || openId === null;
  });
  gateway.addEventListener("dispatch", (event) => dispatched(event.detail.type, event.detail.data));
  gateway.connect();
}

function dispatched(type, data) {
  switch (type) {
    case "READY":
      model.ready(data);
      $("me").textContent = `signed in as ${data.user.id}`;
      if (openId !== null && !model.channels.has(openId)) openId = null;
      renderSidebar();
      renderMessages();
      readOpenChannel();
      // Milliseconds from the page's navigation to the first READY shown (for the
      // figures in BENCHMARKS.md).
      document.documentElement.dataset.readyMs ??= String(Math.round(performance.now()));
      break;
    case "MESSAGE_CREATE": {
      const channel = model.messageCreated(data);
      if (!channel) return;
      renderSidebar();
      if (channel.id === openId) {
        appendMessage(channel, data);
        scrollToEnd();
        clearTimeout(ackTimer);
        ackTimer = setTimeout(readOpenChannel, ACK_DELAY_MS);
      }
      break;
    }
    case "MESSAGE_ACK":
      if (model.acked(data)) {
        renderSidebar();
        if (data.channel_id === openId) markUnreadLine();
      }
      break;
  }
}

/// Acks the open channel's newest message when the page is visible and the channel
/// was not marked unread since it was opened.
function readOpenChannel() {
  if (openId === null || document.visibilityState !== "visible" || keptUnread.has(openId)) return;
  const channel = model.channels.get(openId);
  if (channel && model.isUnread(channel)) gateway.ack(channel.id, channel.lastMessageId.toString());
}

function openChannel(id) {
  openId = id;
  keptUnread.delete(id);
  renderSidebar();
  renderMessages();
  readOpenChannel();
  $("composer").disabled = gateway.state !== "connected";
  $("mark-unread").disabled = false;
}

function markUnread(channel, messageId) {
  const { messageId: upTo, mentions } = model.unreadFrom(channel, messageId);
  keptUnread.add(channel.id);
  gateway.ack(channel.id, upTo, true, mentions);
}

function label(channel) {
  const parts = [`#${channel.name}`, model.isUnread(channel) ? "unread" : "read"];
  if (channel.mentions > 0) parts.push(`${channel.mentions} mention${channel.mentions === 1 ? "" : "s"}`);
  return parts.join(", ");
}

function renderSidebar() {
  const list = $("channels");
  const focused = document.activeElement?.dataset?.channelId;
  const channels = [...model.channels.values()].sort((a, b) => a.name.localeCompare(b.name));
  list.replaceChildren(
    ...channels.map((channel) => {
      const item = document.createElement("li");
      item.role = "option";
      item.dataset.channelId = channel.id;
      item.dataset.unread = String(model.isUnread(channel));
      item.dataset.mentionCount = String(channel.mentions);
      item.setAttribute("aria-label", label(channel));
      item.setAttribute("aria-selected", String(channel.id === openId));
      item.tabIndex = channel.id === (focused ?? openId ?? channels[0]?.id) ? 0 : -1;
      const dot = document.createElement("span");
      dot.className = "dot";
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = `#${channel.name}`;
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = String(channel.mentions);
      item.append(dot, name, badge);
      return item;
    }),
  );
  if (focused) list.querySelector(`[data-channel-id="${focused}"]`)?.focus();
  const total = model.totalMentions;
  document.title = total > 0 ? `(${total}) readstates` : "readstates";
}

function renderMessages() {
  const channel = model.channels.get(openId);
  $("channel-name").textContent = channel ? `#${channel.name}` : "Pick a channel";
  const list = $("messages");
  list.replaceChildren();
  if (channel) for (const message of channel.messages) appendMessage(channel, message);
  markUnreadLine();
  scrollToEnd();
}

/// A line above the first message past the user's read marker.
function markUnreadLine() {
  const channel = model.channels.get(openId);
  let marked = false;
  for (const item of $("messages").children) {
    const unread = !marked && channel !== undefined && snowflake(item.dataset.messageId) > channel.readUpTo;
    item.classList.toggle("unread-marker", unread);
    marked ||= unread;
  }
}

function scrollToEnd() {
  $("messages").lastElementChild?.scrollIntoView({ block: "nearest" });
}

function appendMessage(channel, message) {
  const item = document.createElement("li");
  item.dataset.messageId = message.id;
  if (model.mentionsMe(message)) item.classList.add("mentions-me");
  item.title = "Alt+click: mark unread from here";
  const author = document.createElement("span");
  author.className = "author";
  author.textContent = message.author.id === model.me ? "you" : message.author.id;
  const content = document.createElement("span");
  content.className = "content";
  content.textContent = message.content; // markup stays text
  item.append(author, content);
  $("messages").append(item);
}

function wire() {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("token").value = "";
    start(token);
  });
  $("sign-out").addEventListener("click", () => {
    reset();
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn("");
  });
  const list = $("channels");
  list.addEventListener("click", (event) => {
    const item = event.target.closest("li[data-channel-id]");
    if (item) openChannel(item.dataset.channelId);
  });
  list.addEventListener("keydown", (event) => {
    const item = event.target.closest("li[data-channel-id]");
    if (!item) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      openChannel(item.dataset.channelId);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = event.key === "ArrowDown" ? item.nextElementSibling : item.previousElementSibling;
      if (next) {
        item.tabIndex = -1;
        next.tabIndex = 0;
        next.focus();
      }
    }
  });
  $("messages").addEventListener("click", (event) => {
    const item = event.target.closest("li[data-message-id]");
    const channel = model.channels.get(openId);
    if (item && channel && event.altKey) markUnread(channel, item.dataset.messageId);
  });
  $("mark-unread").addEventListener("click", () => {
    const channel = model.channels.get(openId);
    if (!channel) return;
    const last = channel.messages.at(-1)?.id ?? (channel.lastMessageId > 0n ? channel.lastMessageId.toString() : null);
    if (last) markUnread(channel, last);
  });
  $("composer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("composer");
    const content = input.value.trim();
    if (!content || openId === null) return;
    if (gateway.sendMessage(openId, content, `web-${Date.now()}`)) input.value = "";
  });
  document.addEventListener("visibilitychange", readOpenChannel);
  // A sign-in link opened in a tab that shows the page already: switch to its token.
  window.addEventListener("hashchange", () => {
    if (!location.hash.includes("token=")) return;
    reset();
    start(takeToken());
  });
}

wire();
const token = takeToken();
if (token) start(token);
else showSignIn("");
