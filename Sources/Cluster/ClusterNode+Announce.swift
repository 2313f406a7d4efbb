import CHiredis

extension ClusterNode {
    /// Publishes `body` to every node of the cluster on `redis` once, without joining it
    /// (a short synchronous connection): how a command-line tool tells the nodes about
    /// a change it made in the shared store. Nodes that are not listening miss it.
    /// - Returns: how many nodes heard it.
    @discardableResult
    public static func announce(
        _ body: [UInt8], redis: RedisURL, sender: String, timeoutSeconds: Int = 5
    ) throws(ClusterError) -> Int {
        let timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        guard let context = redisConnectWithTimeout(redis.host, redis.port, timeout) else { throw .redisUnreachable("out of memory") }
        defer { redisFree(context) }
        if context.pointee.err != 0 {
            throw .redisUnreachable(withUnsafePointer(to: context.pointee.errstr) { $0.withMemoryRebound(to: CChar.self, capacity: 128) { String(cString: $0) } })
        }
        let arguments: [[UInt8]] = [Array("PUBLISH".utf8), Array("\(redis.keyPrefix):all".utf8), ClusterEnvelope(kind: .message, sender: sender, body: body).encoded]
        if redis.database != 0 {
            guard case .status = try command(context, [Array("SELECT".utf8), Array(String(redis.database).utf8)]) else {
                throw .redis("SELECT \(redis.database) failed")
            }
        }
        switch try command(context, arguments) {
        case .integer(let receivers): return Int(receivers)
        case .error(let message): throw .redis(message)
        default: throw .redis("unexpected reply to PUBLISH")
        }
    }

    private static func command(_ context: UnsafeMutablePointer<redisContext>, _ arguments: [[UInt8]]) throws(ClusterError) -> RedisReply {
        let raw = RedisArguments.withArgv(arguments) { argc, argv, argvlen in redisCommandArgv(context, argc, argv, argvlen) }
        guard let raw else { throw .redisUnreachable("the connection failed during the command") }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return RedisReply(reply)
    }
}
