import Foundation

/// Cheap readings of time and of the process, for the benchmark loops.
enum BenchClock {
    /// Monotonic nanoseconds (vDSO `clock_gettime`, tens of nanoseconds).
    @inline(__always)
    static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    /// Resident set size in bytes (`/proc/PID/statm`) of this process, or of `pid`;
    /// 0 when it cannot be read.
    static func residentBytes(of pid: Int32? = nil) -> Int {
        let path = "/proc/\(pid.map(String.init) ?? "self")/statm"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// CPU time (user + system) a process (this one when nil) has used, in seconds,
    /// from the `utime` and `stime` fields of `/proc/PID/stat`; nil when it cannot be read.
    static func cpuSeconds(of pid: Int32?) -> Double? {
        let path = "/proc/\(pid.map(String.init) ?? "self")/stat"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)": state is field 3, so utime (14) and stime (15) are the
        // 12th and 13th fields past the closing parenthesis.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// CPU time the hypervisor gave to other guests while this machine wanted it
    /// (`steal` in `/proc/stat`), in milliseconds, summed over all CPUs.
    static func stolenMilliseconds() -> UInt64 {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first
        else { return 0 }
        let fields = line.split(separator: " ")
        // cpu user nice system idle iowait irq softirq steal ...
        guard fields.count > 8, let ticks = UInt64(fields[8]) else { return 0 }
        return ticks * 1000 / UInt64(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// A small, fast generator (wyrand) for drawing users and operations: the system
/// generator reads the kernel's entropy and would dominate the loop.
struct FastRandom {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0xA076_1D64_78BD_642F
        let product = state.multipliedFullWidth(by: state ^ 0xE703_7ED1_A0B4_28DB)
        return product.high ^ product.low
    }

    /// Uniform in `0..<bound` (Lemire's multiply-shift; the bias is negligible here).
    @inline(__always)
    mutating func next(below bound: Int) -> Int {
        Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }
}
