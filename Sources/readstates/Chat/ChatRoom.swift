import Foundation
import Gateway
import Snowflake

/// What the chat client knows and shows: the user's channels with their unread
/// markers and mention badges, the current channel, and the messages seen this run.
/// No sockets and no terminal: events and typed lines in, lines to print and
/// payloads to send out.
struct ChatRoom {
    struct Channel {
        var id: Snowflake
        var name: String
        var lastMessageID: Snowflake?
        /// The read state's `last_message_id`: everything up to it is read.
        var readUpTo: Snowflake?
        var mentions = 0
        /// Messages seen since the client started (the gateway keeps no history).
        var messages: [MessageCreate] = []

        /// The channel has a message newer than the read marker.
        var isUnread: Bool {
            guard let lastMessageID else { return false }
            return readUpTo.map { lastMessageID > $0 } ?? true
        }
    }

    enum Output: Equatable {
        case line(String)
        case send(ClientPayload)
        case quit
    }

    static let keptMessages = 50

    private(set) var me: Snowflake?
    private(set) var channels: [Channel] = []
    private(set) var current: Snowflake?
    private var nonces = 0
    /// The badge line last printed, so an unchanged one is not printed again.
    private var lastBadges = ""

    // MARK: Gateway events

    mutating func ready(_ ready: ReadyPayload) -> [Output] {
        me = ready.user.id
        let read = Dictionary(ready.readState.entries.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let previous = Dictionary(channels.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        // A partial READY holds only the states changed since the version this client
        // sent: the others are as it has them.
        let kept = ready.readState.partial ? previous : [:]
        channels = ready.channels.map { channel in
            Channel(
                id: channel.id,
                name: channel.name,
                lastMessageID: channel.lastMessageId,
                readUpTo: read[channel.id]?.lastMessageId ?? kept[channel.id]?.readUpTo,
                mentions: read[channel.id]?.mentionCount ?? kept[channel.id]?.mentions ?? 0,
                messages: previous[channel.id]?.messages ?? []
            )
        }
        if let current, index(of: current) == nil { self.current = nil }
        let states = ready.readState.partial ? "\(read.count) read state\(read.count == 1 ? "" : "s") changed" : "\(read.count) read state\(read.count == 1 ? "" : "s")"
        var lines: [Output] = [
            .line("ready: signed in as \(ready.user.id), \(channels.count) channel\(channels.count == 1 ? "" : "s"), \(states)")
        ]
        lines += sidebar()
        if current == nil, !channels.isEmpty {
            lines.append(.line("type /join NAME to open a channel, /help for commands"))
        }
        lastBadges = badgeLine()
        return lines
    }

    mutating func messageCreated(_ message: MessageCreate) -> [Output] {
        guard let index = index(of: message.channelId) else { return [] }
        channels[index].lastMessageID = max(channels[index].lastMessageID ?? message.id, message.id)
        channels[index].messages.append(message)
        if channels[index].messages.count > Self.keptMessages { channels[index].messages.removeFirst() }
        let fromMe = message.author.id == me
        if message.channelId == current {
            var outputs: [Output] = [.line(render(message, in: channels[index]))]
            // The channel is on screen: the message is read as it arrives (the
            // server acks the author's own messages itself).
            if !fromMe {
                outputs.append(.send(.ack(channelID: message.channelId, messageID: message.id, manual: false, mentionCount: 0)))
            }
            return outputs
        }
        if !fromMe, mentions(me, in: message) {
            channels[index].mentions += 1
        }
        return badgesIfChanged()
    }

    mutating func messageAcked(_ ack: MessageAck) -> [Output] {
        guard let index = index(of: ack.channelId) else { return [] }
        channels[index].readUpTo = ack.messageId
        channels[index].mentions = ack.mentionCount
        if ack.manual && ack.channelId == current {
            return [.line("#\(channels[index].name) marked unread")] + badgesIfChanged()
        }
        return badgesIfChanged()
    }

    func requestError(_ error: RequestError) -> [Output] {
        [.line("error: \(error.message) (code \(error.code))")]
    }

    // MARK: Typed lines

    mutating func input(_ text: String) -> [Output] {
        let line = text.trimmingCharacters(in: .whitespaces)
        guard !line.isEmpty else { return [] }
        guard line.hasPrefix("/") else { return say(line) }
        let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
        let argument = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        switch parts[0] {
        case "/join": return join(argument)
        case "/ack": return ackCurrent()
        case "/unread": return markUnread()
        case "/channels": return sidebar()
        case "/quit": return [.quit]
        case "/help": return Self.help.map { .line($0) }
        default: return [.line("unknown command \(parts[0]) (try /help)")]
        }
    }

    static let help = [
        "commands:",
        "  /join NAME     open a channel (by name or ID); its newest message is marked read",
        "  /ack           mark the current channel read",
        "  /unread        mark the current channel unread from its last message",
        "  /channels      list channels: * unread, @N mentions",
        "  /reconnect     drop the connection and resume the session",
        "  /quit          leave",
        "  anything else  is sent to the current channel; <@ID> or @ID mentions a user, @everyone everyone",
    ]

    private mutating func say(_ text: String) -> [Output] {
        guard let current, index(of: current) != nil else {
            return [.line("open a channel first: /join NAME (see /channels)")]
        }
        let content = Self.expandMentions(text)
        guard content.count <= ClientPayload.maximumContentCharacters else {
            return [.line("a message is at most \(ClientPayload.maximumContentCharacters) characters")]
        }
        nonces += 1
        return [.send(.sendMessage(channelID: current, content: content, nonce: "c\(nonces)"))]
    }

    private mutating func join(_ target: String) -> [Output] {
        let name = target.hasPrefix("#") ? String(target.dropFirst()) : target
        guard let index = channels.firstIndex(where: { $0.name == name || "\($0.id)" == name }) else {
            return [.line(name.isEmpty ? "usage: /join NAME" : "no channel \(target) (see /channels)")]
        }
        current = channels[index].id
        let channel = channels[index]
        var outputs: [Output] = [.line("-- #\(channel.name) (\(channel.id)) --")]
        outputs += channel.messages.map { .line(render($0, in: channel)) }
        if channel.isUnread || channel.mentions > 0, let last = channel.lastMessageID {
            outputs.append(.send(.ack(channelID: channel.id, messageID: last, manual: false, mentionCount: 0)))
        }
        return outputs
    }

    private func ackCurrent() -> [Output] {
        guard let index = current.flatMap(index(of:)) else { return [.line("open a channel first: /join NAME")] }
        let channel = channels[index]
        guard let last = channel.lastMessageID, channel.isUnread || channel.mentions > 0 else {
            return [.line("#\(channel.name) is already read")]
        }
        return [.send(.ack(channelID: channel.id, messageID: last, manual: false, mentionCount: 0))]
    }

    /// A manual ack to just before the last message: that message (and only it)
    /// becomes unread, with a mention if it mentioned us.
    private func markUnread() -> [Output] {
        guard let index = current.flatMap(index(of:)) else { return [.line("open a channel first: /join NAME")] }
        let channel = channels[index]
        guard let last = channel.lastMessageID else { return [.line("#\(channel.name) has no messages")] }
        let mentioned = channel.messages.last.map { $0.id == last && mentions(me, in: $0) } ?? false
        return [
            .send(
                .ack(
                    channelID: channel.id,
                    messageID: Snowflake(rawValue: last.rawValue - 1),
                    manual: true,
                    mentionCount: mentioned ? 1 : 0
                )
            )
        ]
    }

    // MARK: Rendering

    /// Every channel on its own line: `>` marks the current one, `*` unread, `@N` mentions.
    func sidebar() -> [Output] {
        guard !channels.isEmpty else { return [.line("no channels yet")] }
        var lines: [Output] = [.line("channels (* unread, @N mentions):")]
        for channel in channels {
            let marker = channel.id == current ? ">" : " "
            lines.append(.line(" \(marker) #\(channel.name)\(badge(channel))"))
        }
        return lines
    }

    /// The one-line summary printed when a badge changes.
    func badgeLine() -> String {
        "badges: " + channels.map { "#\($0.name)\(badge($0))" }.joined(separator: " | ")
    }

    private mutating func badgesIfChanged() -> [Output] {
        let line = badgeLine()
        guard line != lastBadges else { return [] }
        lastBadges = line
        return [.line(line)]
    }

    private func badge(_ channel: Channel) -> String {
        (channel.isUnread ? " *" : "") + (channel.mentions > 0 ? " @\(channel.mentions)" : "")
    }

    private func render(_ message: MessageCreate, in channel: Channel) -> String {
        let author = message.author.id == me ? "you" : "\(message.author.id)"
        return "[#\(channel.name)] \(author): \(message.content)"
    }

    private func index(of channel: Snowflake) -> Int? {
        channels.firstIndex { $0.id == channel }
    }

    private func mentions(_ user: Snowflake?, in message: MessageCreate) -> Bool {
        guard let user else { return false }
        return message.mentionEveryone || message.mentions.contains { $0.id == user }
    }

    /// `@80351110224678913` → `<@80351110224678913>`: the short form people type.
    static func expandMentions(_ text: String) -> String {
        var result = ""
        var rest = Substring(text)
        while let at = rest.firstIndex(of: "@") {
            let before = rest[..<at]
            let afterAt = rest[rest.index(after: at)...]
            let digits = afterAt.prefix { $0.isASCII && $0.isNumber }
            let alreadyWrapped = before.hasSuffix("<")
            if !alreadyWrapped, digits.count >= 15, (try? Snowflake.parse(String(digits))) != nil {
                result += before + "<@" + digits + ">"
            } else {
                result += before + "@" + digits
            }
            rest = afterAt[digits.endIndex...]
        }
        return result + rest
    }
}
