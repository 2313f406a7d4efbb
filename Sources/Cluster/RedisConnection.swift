import CHiredis
import Foundation

/// One hiredis asynchronous connection on a ``RedisLoop``, reconnecting on its own:
/// after a drop it tries again every `retryMilliseconds` until Redis answers. Used only
/// on the loop's thread.
///
/// A connection in SUBSCRIBE mode cannot publish, so a node keeps two: one for
/// commands and one for its subscriptions (hiredis's rule, and Redis's).
final class RedisConnection {
    enum Event {
        case connected
        /// The connection dropped (or never came up): pending commands got nil.
        case disconnected(String)
    }

    let url: RedisURL
    private let loop: RedisLoop
    private var context: UnsafeMutablePointer<redisAsyncContext>?
    /// True from the connect callback's success until the disconnect callback.
    private(set) var isConnected = false
    private var retryAt: UInt64?
    let retryMilliseconds: UInt64
    /// Subscriptions: their handler stays registered with hiredis for every message,
    /// so the box is kept here (not retained by hiredis) until the next connection.
    private var subscriptions: [SubscriptionBox] = []
    var onEvent: (Event) -> Void = { _ in }

    init(url: RedisURL, loop: RedisLoop, retryMilliseconds: UInt64 = 500) {
        self.url = url
        self.loop = loop
        self.retryMilliseconds = retryMilliseconds
    }

    /// Starts connecting (the outcome comes as an ``Event``).
    func connect() {
        guard context == nil else { return }
        retryAt = nil
        guard let context = redisAsyncConnect(url.host, url.port) else {
            scheduleRetry("out of memory")
            return
        }
        if context.pointee.err != 0 {
            let reason = RedisConnection.errorText(context)
            redisAsyncFree(context)
            scheduleRetry(reason)
            return
        }
        context.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        self.context = context
        _ = CHiredis_attach(context, loop.loop)
        redisAsyncSetConnectCallback(context) { context, status in
            guard let context, let data = context.pointee.data else { return }
            let connection = Unmanaged<RedisConnection>.fromOpaque(data).takeUnretainedValue()
            if status == REDIS_OK {
                connection.isConnected = true
                if connection.url.database != 0 {
                    connection.command(["SELECT", String(connection.url.database)]) { _ in }
                }
                connection.onEvent(.connected)
            } else {
                // hiredis frees the context after this callback.
                connection.context = nil
                connection.isConnected = false
                connection.subscriptions.removeAll()
                connection.scheduleRetry(RedisConnection.errorText(context))
            }
        }
        redisAsyncSetDisconnectCallback(context) { context, status in
            guard let context, let data = context.pointee.data else { return }
            let connection = Unmanaged<RedisConnection>.fromOpaque(data).takeUnretainedValue()
            connection.context = nil
            connection.isConnected = false
            connection.subscriptions.removeAll()
            if let done = connection.closed {
                // The graceful close asked for this: no retry.
                connection.closed = nil
                connection.onEvent = { _ in }
                done()
                return
            }
            connection.scheduleRetry(status == REDIS_OK ? "closed" : RedisConnection.errorText(context))
        }
    }

    private static func errorText(_ context: UnsafePointer<redisAsyncContext>) -> String {
        guard let text = context.pointee.errstr else { return "error \(context.pointee.err)" }
        return String(cString: text)
    }

    private func scheduleRetry(_ reason: String) {
        retryAt = ClusterNode.now() + retryMilliseconds
        onEvent(.disconnected(reason))
    }

    /// Reconnects once its retry time has come; called after every round of the loop.
    func poll(now: UInt64) {
        if let retryAt, now >= retryAt, context == nil { connect() }
    }

    /// Sends a command; `reply` gets nil when the connection drops first (or is down).
    func command(_ arguments: [String], reply: @escaping (RedisReply?) -> Void) {
        command(arguments.map { Array($0.utf8) }, reply: reply)
    }

    func command(_ arguments: [[UInt8]], reply: @escaping (RedisReply?) -> Void) {
        guard let context, isConnected else {
            reply(nil)
            return
        }
        let box = Unmanaged.passRetained(ReplyBox(reply)).toOpaque()
        let status = Self.send(context, arguments, box) { _, reply, privdata in
            guard let privdata else { return }
            let box = Unmanaged<ReplyBox>.fromOpaque(privdata).takeRetainedValue()
            box.handler(reply.map { RedisReply($0.assumingMemoryBound(to: redisReply.self)) })
        }
        if status != REDIS_OK {
            Unmanaged<ReplyBox>.fromOpaque(box).release()
            reply(nil)
        }
    }

    /// SUBSCRIBE to `channels`; `message` gets each message's channel and payload.
    /// Subscriptions end with the connection: subscribe again on ``Event/connected``.
    func subscribe(_ channels: [String], message: @escaping (_ channel: [UInt8], _ payload: [UInt8]) -> Void) {
        guard let context, isConnected else { return }
        let box = SubscriptionBox(message)
        subscriptions.append(box)
        let privdata = Unmanaged.passUnretained(box).toOpaque()
        _ = Self.send(context, [Array("SUBSCRIBE".utf8)] + channels.map { Array($0.utf8) }, privdata) { context, reply, privdata in
            // Called for the subscription's confirmation, every message, and with nil
            // when the connection goes (the box belongs to the connection, not hiredis).
            guard let reply, let privdata else { return }
            guard case .array(let parts) = RedisReply(reply.assumingMemoryBound(to: redisReply.self)), parts.count == 3,
                parts[0] == .string(Array("message".utf8)), case .string(let channel) = parts[1], case .string(let payload) = parts[2]
            else { return }
            Unmanaged<SubscriptionBox>.fromOpaque(privdata).takeUnretainedValue().handler(channel, payload)
        }
    }

    /// What to run once a graceful close has finished (``close(gracefully:)``).
    private var closed: (() -> Void)?

    /// Closes the connection for good, after what is queued has been written and
    /// answered (hiredis's `redisAsyncDisconnect`: a PUBLISH handed over just before is
    /// not thrown away), then runs `done`. Down already: `done` at once.
    func closeGracefully(_ done: @escaping () -> Void) {
        retryAt = nil
        guard let context, isConnected else {
            close()
            return done()
        }
        closed = done
        redisAsyncDisconnect(context)
    }

    /// Closes the connection for good at once (no retry): what is queued is dropped,
    /// pending commands get nil.
    func close() {
        closed = nil
        retryAt = nil
        onEvent = { _ in }
        if let context {
            context.pointee.data = nil
            self.context = nil
            isConnected = false
            redisAsyncFree(context)
        }
        subscriptions.removeAll()
    }

    private static func send(
        _ context: UnsafeMutablePointer<redisAsyncContext>, _ arguments: [[UInt8]], _ privdata: UnsafeMutableRawPointer?,
        _ callback: @convention(c) (UnsafeMutablePointer<redisAsyncContext>?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Void
    ) -> Int32 {
        RedisArguments.withArgv(arguments) { argc, argv, argvlen in
            redisAsyncCommandArgv(context, callback, privdata, argc, argv, argvlen)
        }
    }
}

private final class ReplyBox {
    let handler: (RedisReply?) -> Void
    init(_ handler: @escaping (RedisReply?) -> Void) { self.handler = handler }
}

private final class SubscriptionBox {
    let handler: ([UInt8], [UInt8]) -> Void
    init(_ handler: @escaping ([UInt8], [UInt8]) -> Void) { self.handler = handler }
}
