public import Prometheus
import Synchronization

/// The gateway's Prometheus metrics (`GET /metrics`), on swift-prometheus's registry.
///
/// Counters and histograms are updated where things happen; figures the engine and
/// the write-behind flusher already count are read when scraped, through `sources`.
public final class GatewayMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let connections: Gauge
    /// Sessions known (connected or waiting for a RESUME) and the bytes of dispatches
    /// kept for RESUME, set once a second.
    let sessions: Gauge
    let resumeHistoryBytes: Gauge
    let readyBuild: DurationHistogram
    let ackLatency: DurationHistogram
    let mentionLatency: DurationHistogram
    private let sources: Mutex<[@Sendable () -> [(name: String, value: Double)]]> = Mutex([])

    public init() {
        connections = registry.makeGauge(name: "gateway_connections", help: "Open gateway WebSocket connections.")
        sessions = registry.makeGauge(name: "gateway_sessions", help: "Sessions, connected or waiting for a RESUME.")
        resumeHistoryBytes = registry.makeGauge(
            name: "gateway_resume_history_bytes", help: "Bytes of dispatches kept for RESUME, all sessions together."
        )
        let micro: [Duration] = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 50_000, 250_000, 1_000_000]
            .map { .microseconds($0) }
        readyBuild = registry.makeDurationHistogram(
            name: "gateway_ready_build_seconds",
            buckets: micro,
            help: "From IDENTIFY to READY queued, including a load from the store on a miss."
        )
        ackLatency = registry.makeDurationHistogram(
            name: "readstates_cache_operation_seconds", labels: [("operation", "ack")], buckets: micro,
            help: "Time of one inline cache operation."
        )
        mentionLatency = registry.makeDurationHistogram(
            name: "readstates_cache_operation_seconds", labels: [("operation", "mention")], buckets: micro,
            help: "Time of one inline cache operation."
        )
    }

    /// The counter of dispatches sent for one event name. (The registry looks it up
    /// under a lock: callers on the service thread keep the counters they got.)
    func dispatches(_ type: String) -> Counter {
        registry.makeCounter(name: "gateway_dispatches_total", labels: [("type", type)], help: "Dispatches sent, by event.")
    }

    /// One service thread's figures: its open gateway connections, and the frames it
    /// received and handed to its sockets.
    struct ThreadFigures {
        let connections: Gauge
        let framesIn: Counter
        let framesOut: Counter
    }

    func thread(_ index: Int) -> ThreadFigures {
        let thread = String(index)
        return ThreadFigures(
            connections: registry.makeGauge(
                name: "gateway_thread_connections", labels: [("thread", thread)], help: "Open gateway WebSocket connections, by service thread."
            ),
            framesIn: registry.makeCounter(
                name: "gateway_thread_frames_total", labels: [("thread", thread), ("direction", "in")],
                help: "Gateway frames received from clients and queued to them, by service thread."
            ),
            framesOut: registry.makeCounter(
                name: "gateway_thread_frames_total", labels: [("thread", thread), ("direction", "out")],
                help: "Gateway frames received from clients and queued to them, by service thread."
            )
        )
    }

    func closed(code: UInt16) {
        registry.makeCounter(name: "gateway_closes_total", labels: [("code", String(code))], help: "Sessions closed by the server, by close code.")
            .increment()
    }

    /// Adds figures read at each scrape (name → value), exposed as gauges.
    public func addSource(_ source: @escaping @Sendable () -> [(name: String, value: Double)]) {
        sources.withLock { $0.append(source) }
    }

    /// The Prometheus text exposition.
    public func scrape() -> [UInt8] {
        for source in sources.withLock({ $0 }) {
            for (name, value) in source() {
                registry.makeGauge(name: name).set(value)
            }
        }
        return registry.emitToBuffer()
    }
}
