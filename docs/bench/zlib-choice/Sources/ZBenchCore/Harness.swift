#if canImport(Glibc)
import Glibc
#endif

/// One compression stream per connection.
public protocol StreamCompressor: AnyObject {
    /// Compress one frame with a sync flush; returns output byte count.
    func compress(_ frame: [UInt8]) -> Int
    /// Copy of the last output chunk (for verification only).
    var lastOutput: [UInt8] { get }
    /// Release per-stream output/input buffers (memory test).
    func dropBuffers()
}

public struct Setting: Sendable {
    public let level: Int32, windowBits: Int32, memLevel: Int32
    public init(level: Int32, windowBits: Int32, memLevel: Int32) {
        self.level = level; self.windowBits = windowBits; self.memLevel = memLevel
    }
    public var name: String { "L\(level)-wb\(windowBits)-ml\(memLevel)" }
    /// zlib's documented deflate memory: (1 << (windowBits+2)) + (1 << (memLevel+9)) (+ ~6 KB state)
    public var formulaBytes: Int { (1 << (Int(windowBits) + 2)) + (1 << (Int(memLevel) + 9)) }
}

public struct Method: Sendable {
    public let name: String
    public let make: @Sendable (Setting) -> any StreamCompressor
    public init(name: String, make: @escaping @Sendable (Setting) -> any StreamCompressor) { self.name = name; self.make = make }
}

final class DirectAdapter: StreamCompressor {
    let z: DirectZlibStream
    init(_ s: Setting) { z = DirectZlibStream(level: s.level, windowBits: s.windowBits, memLevel: s.memLevel) }
    func compress(_ frame: [UInt8]) -> Int { z.compress(frame) }
    var lastOutput: [UInt8] { z.lastOutput }
    func dropBuffers() { z.shrinkOutput(to: 0) }
}

public let directMethod = Method(name: "direct-zlib") { DirectAdapter($0) }

public let allSettings: [Setting] = [
    Setting(level: 1, windowBits: 15, memLevel: 8),
    Setting(level: 6, windowBits: 15, memLevel: 8),
    Setting(level: 1, windowBits: 12, memLevel: 5),
    Setting(level: 6, windowBits: 12, memLevel: 5),
]

@inline(__always) func threadCPUns() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
@inline(__always) func monoNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func rssBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    precondition(fd >= 0)
    defer { close(fd) }
    var buf = [UInt8](repeating: 0, count: 256)
    let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 255) }
    let s = String(decoding: buf[0..<max(0, n)], as: UTF8.self)
    let parts = s.split(separator: " ")
    return Int(parts[1])! * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    guard let f = fopen(path, "wb") else { fatalError("cannot open \(path)") }
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
}

func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }
func f1(_ x: Double) -> String { let r = (x * 10).rounded() / 10; return "\(r)" }

struct SmallResult {
    var cpuNs: UInt64 = 0, wallNs: UInt64 = 0
    var outBy = [0, 0], inBy = [0, 0], cntBy = [0, 0]
}

func runSmall(_ m: Method, _ s: Setting, streams nStreams: Int, frames: Int, pool: [Frame], ready: [UInt8]) -> SmallResult {
    let streams = (0..<nStreams).map { _ in m.make(s) }
    for st in streams { _ = st.compress(ready) }  // each connection starts with READY (untimed)
    var r = SmallResult()
    var si = 0, pi = 0
    let pc = pool.count
    let c0 = threadCPUns(), w0 = monoNs()
    for _ in 0..<frames {
        let f = pool[pi]
        let o = streams[si].compress(f.bytes)
        let k = f.kind.rawValue
        r.outBy[k] &+= o; r.inBy[k] &+= f.bytes.count; r.cntBy[k] &+= 1
        si += 1; if si == nStreams { si = 0 }
        pi += 1; if pi == pc { pi = 0 }
    }
    r.cpuNs = threadCPUns() - c0; r.wallNs = monoNs() - w0
    return r
}

public func runBench(methods: [Method], frames: Int, reps: Int, streamCounts: [Int]) {
    var factory = FrameFactory(seed: 42)
    let pool = factory.smallPool(count: 4096)
    let ready = factory.ready()
    let poolIn = pool.reduce(0) { $0 + $1.bytes.count }
    print("# pool: \(pool.count) small frames, avg \(f1(Double(poolIn) / Double(pool.count))) B; READY \(ready.count) B")
    print("# frames/run=\(frames) reps=\(reps); time = CLOCK_THREAD_CPUTIME_ID, median of reps")
    var table: [String] = []
    table.append("| method | setting | streams | ns/frame (median) | reps ns/frame | wall ns/frame | avg out B/frame | ACK in→out B | CREATE in→out B | ratio |")
    table.append("|---|---|---|---|---|---|---|---|---|---|")
    for s in allSettings {
        for n in streamCounts {
            for m in methods {
                var cpu: [Double] = [], wall: [Double] = []
                var last = SmallResult()
                for _ in 0..<reps {
                    let r = runSmall(m, s, streams: n, frames: frames, pool: pool, ready: ready)
                    cpu.append(Double(r.cpuNs) / Double(frames)); wall.append(Double(r.wallNs) / Double(frames))
                    last = r
                }
                let out = Double(last.outBy[0] + last.outBy[1]), inn = Double(last.inBy[0] + last.inBy[1])
                let ackIn = Double(last.inBy[0]) / Double(last.cntBy[0]), ackOut = Double(last.outBy[0]) / Double(last.cntBy[0])
                let crIn = Double(last.inBy[1]) / Double(last.cntBy[1]), crOut = Double(last.outBy[1]) / Double(last.cntBy[1])
                let line = "| \(m.name) | \(s.name) | \(n) | \(f1(median(cpu))) | \(cpu.map(f1).joined(separator: ",")) | \(f1(median(wall))) | \(f1(out / Double(frames))) | \(f1(ackIn))→\(f1(ackOut)) | \(f1(crIn))→\(f1(crOut)) | \(f1(inn / out)) |"
                print("SMALL " + line); table.append(line)
            }
        }
    }
    // READY on a fresh stream
    var rtable: [String] = ["| method | setting | READY in B | READY out B | ratio | µs/READY (median of 21, fresh stream) |", "|---|---|---|---|---|---|"]
    for s in allSettings {
        for m in methods {
            var cpu: [Double] = []
            var outB = 0
            for _ in 0..<21 {
                let st = m.make(s)
                let c0 = threadCPUns()
                outB = st.compress(ready)
                cpu.append(Double(threadCPUns() - c0))
            }
            let line = "| \(m.name) | \(s.name) | \(ready.count) | \(outB) | \(f1(Double(ready.count) / Double(outB))) | \(f1(median(cpu) / 1000)) |"
            print("READY " + line); rtable.append(line)
        }
    }
    print("\n## Small frames (ACK/CREATE 50/50, after an untimed READY on every stream)")
    table.forEach { print($0) }
    print("\n## READY")
    rtable.forEach { print($0) }
}

/// Write, per method and setting, one stream's chunks: READY, 2000 small frames, READY, 500 small.
public func runVerify(methods: [Method], dir: String) {
    var factory = FrameFactory(seed: 7)
    let pool = factory.smallPool(count: 2500)
    let ready = factory.ready()
    var seq: [[UInt8]] = [ready]
    seq += pool[0..<2000].map(\.bytes)
    seq.append(ready)
    seq += pool[2000...].map(\.bytes)
    writeFile(dir + "/input.bin", seq.flatMap { $0 })
    writeFile(dir + "/input.lens", Array(seq.map { String($0.count) }.joined(separator: "\n").utf8))
    for s in allSettings {
        var firstOut: [UInt8]? = nil
        for m in methods {
            let st = m.make(s)
            var out: [UInt8] = [], lens: [String] = []
            for f in seq {
                let n = st.compress(f)
                let chunk = st.lastOutput
                precondition(chunk.count == n)
                precondition(chunk.suffix(4) == [0, 0, 0xff, 0xff], "chunk does not end with 00 00 ff ff")
                out += chunk; lens.append(String(n))
            }
            let base = "\(dir)/\(m.name)_\(s.name)"
            writeFile(base + ".out", out)
            writeFile(base + ".lens", Array(lens.joined(separator: "\n").utf8))
            if let fo = firstOut { print("VERIFY \(m.name) \(s.name): \(out.count) B, identical to \(methods[0].name): \(fo == out)") }
            else { firstOut = out; print("VERIFY \(m.name) \(s.name): \(out.count) B") }
        }
    }
}

public func runMem(method m: Method, setting s: Setting, count: Int) {
    var factory = FrameFactory(seed: 1)
    let pool = factory.smallPool(count: 16)
    let ready = factory.ready()
    let r0 = rssBytes()
    var streams: [any StreamCompressor] = []
    streams.reserveCapacity(count)
    for _ in 0..<count { streams.append(m.make(s)) }
    let r1 = rssBytes()
    for st in streams { _ = st.compress(pool[0].bytes) }
    let r2 = rssBytes()
    for (i, st) in streams.enumerated() { for j in 1..<16 { _ = st.compress(pool[(i + j) % 16].bytes) } }
    let r3 = rssBytes()
    for st in streams { _ = st.compress(ready) }
    let r4 = rssBytes()
    for st in streams { st.dropBuffers() }
    let r5 = rssBytes()
    func kb(_ d: Int) -> String { f1(Double(d) / Double(count) / 1024) }
    print("MEM | \(m.name) | \(s.name) | formula \(f1(Double(s.formulaBytes) / 1024)) KB (+~6 KB) | after init \(kb(r1 - r0)) | after 1 small \(kb(r2 - r0)) | after 16 small \(kb(r3 - r0)) | after READY \(kb(r4 - r0)) | READY then buffers dropped \(kb(r5 - r0)) | KB/stream, \(count) streams |")
    withExtendedLifetime(streams) {}
}

public func runCLI(methods: [Method]) {
    let args = CommandLine.arguments
    let cmd = args.count > 1 ? args[1] : "bench"
    switch cmd {
    case "bench":
        let frames = args.count > 2 ? Int(args[2])! : 200_000
        let reps = args.count > 3 ? Int(args[3])! : 3
        runBench(methods: methods, frames: frames, reps: reps, streamCounts: [1, 100])
    case "verify":
        runVerify(methods: methods, dir: args[2])
    case "mem":  // mem <methodName> <level> <wbits> <memLevel> [count]
        let m = methods.first { $0.name == args[2] }!
        let s = Setting(level: Int32(args[3])!, windowBits: Int32(args[4])!, memLevel: Int32(args[5])!)
        runMem(method: m, setting: s, count: args.count > 6 ? Int(args[6])! : 1000)
    default:
        print("usage: bench [frames] [reps] | verify DIR | mem METHOD LEVEL WBITS MEMLEVEL [N]")
    }
}
