/// The Lua scripts a node runs in Redis (EVAL): each is one atomic step, timed by Redis's
/// own clock, so nodes' clocks need not agree.
enum ClusterScripts {
    /// Registers or refreshes this node (KEYS: the members' sorted set, the URLs' hash,
    /// this node's worker key; ARGV: node ID, TTL in ms, advertised URL, "1" when
    /// joining), drops members whose TTL ran out, and returns the live ones as
    /// `id, url, id, url, ...`. A member's score is when it expires.
    static let heartbeat = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        if ARGV[4] == '1' then
          local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
          if score and tonumber(score) > now then return redis.error_reply('NODE_ID_TAKEN') end
        end
        local holder = redis.call('GET', KEYS[3])
        if holder and holder ~= ARGV[1] then return redis.error_reply('WORKER_LOST') end
        redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
        local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
        for _, id in ipairs(dead) do redis.call('HDEL', KEYS[2], id) end
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        local result = {}
        for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
          table.insert(result, id)
          table.insert(result, redis.call('HGET', KEYS[2], id) or '')
        end
        return result
        """

    /// Claims a Snowflake worker number (from ARGV[5] to 1023) that no live node holds
    /// (ARGV: key prefix, node ID, TTL in ms, where to start looking, the first number
    /// that may be claimed); -1 when all are held.
    static let claimWorker = """
        local first = tonumber(ARGV[5])
        local span = 1024 - first
        for i = 0, span - 1 do
          local n = first + (tonumber(ARGV[4]) + i) % span
          local key = ARGV[1] .. ':worker:' .. n
          local holder = redis.call('GET', key)
          if holder == ARGV[2] or (not holder and redis.call('SET', key, ARGV[2], 'NX', 'PX', ARGV[3])) then
            redis.call('PEXPIRE', key, ARGV[3])
            return n
          end
        end
        return -1
        """

    /// Leaves at once (KEYS: the sorted set, the hash, this node's worker key; ARGV: the
    /// node ID), so the others need not wait for the TTL.
    static let leave = """
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('HDEL', KEYS[2], ARGV[1])
        if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
        return 1
        """
}
