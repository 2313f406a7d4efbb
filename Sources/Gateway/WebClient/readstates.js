// Read states as the page keeps them: for each channel its newest message, how far the
// user has read and the unread mentions, changed by READY, MESSAGE_CREATE and
// MESSAGE_ACK exactly as the server changes them. Snowflakes are compared as BigInt
// (they pass 2^53, where JavaScript numbers lose digits).

export const snowflake = (text) => (text === null || text === undefined ? 0n : BigInt(text));

/// Messages kept per channel (the page shows what arrived since it connected).
const MESSAGES_KEPT = 500;

export class ReadStates {
  constructor() {
    this.me = null;
    this.channels = new Map(); // id -> { id, name, lastMessageId, readUpTo, mentions, messages }
    this.version = 0;
  }

  /// READY: the user's channels and read states replace what was there (messages kept).
  ready(data) {
    this.me = data.user.id;
    this.version = data.read_state.version;
    const entries = new Map(data.read_state.entries.map((entry) => [entry.id, entry]));
    const next = new Map();
    for (const channel of data.channels) {
      const entry = entries.get(channel.id);
      next.set(channel.id, {
        id: channel.id,
        name: channel.name,
        lastMessageId: snowflake(channel.last_message_id),
        readUpTo: snowflake(entry?.last_message_id),
        mentions: entry?.mention_count ?? 0,
        messages: this.channels.get(channel.id)?.messages ?? [],
        seen: this.channels.get(channel.id)?.seen ?? new Set(),
      });
    }
    this.channels = next;
  }

  isUnread(channel) {
    return channel.lastMessageId > channel.readUpTo;
  }

  mentionsMe(message) {
    if (message.author.id === this.me) return false;
    return message.mention_everyone || message.mentions.some((user) => user.id === this.me);
  }

  /// MESSAGE_CREATE: the channel's newest message, and a mention counted as the server
  /// counts it (only for a user who has not read past the message).
  /// Returns the channel, or null when nothing changed.
  messageCreated(message) {
    const channel = this.channels.get(message.channel_id);
    // Unknown channel, or a message seen already (a RESUME replays what it must).
    if (!channel || channel.seen.has(message.id)) return null;
    const id = snowflake(message.id);
    if (id > channel.lastMessageId) channel.lastMessageId = id;
    channel.messages.push(message);
    channel.seen.add(message.id);
    if (channel.messages.length > MESSAGES_KEPT) channel.seen.delete(channel.messages.shift().id);
    if (this.mentionsMe(message) && id > channel.readUpTo) channel.mentions = Math.min(channel.mentions + 1, 65535);
    return channel;
  }

  /// MESSAGE_ACK: the server's state of one read state (from any of the user's devices).
  acked(data) {
    const channel = this.channels.get(data.channel_id);
    if (!channel) return null;
    channel.readUpTo = snowflake(data.message_id);
    channel.mentions = data.mention_count;
    if (data.version > this.version) this.version = data.version;
    return channel;
  }

  /// What a "mark unread from this message" ack carries: read up to just before it,
  /// with the mentions of the user from it on (those the page has seen).
  unreadFrom(channel, messageId) {
    const from = snowflake(messageId);
    const mentions = channel.messages.filter((message) => snowflake(message.id) >= from && this.mentionsMe(message)).length;
    return { messageId: (from - 1n).toString(), mentions };
  }

  get totalMentions() {
    let total = 0;
    for (const channel of this.channels.values()) total += channel.mentions;
    return total;
  }
}
