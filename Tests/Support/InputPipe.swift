public import Foundation

/// A named pipe a test writes lines into while a child process reads it as its
/// standard input, the way a person types into a program (or a shell pipes into it).
/// Closing it is the end of input.
public final class InputPipe: @unchecked Sendable {
    public let url: URL
    private var fd: Int32

    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-input-\(UUID().uuidString)")
        guard mkfifo(url.path, 0o600) == 0 else { throw TestServerError("mkfifo failed: errno \(errno)") }
        // Read-write, so this open does not wait for the child to open its end;
        // close-on-exec, or every process spawned later would hold the pipe open
        // and its reader would never see the end of input.
        fd = open(url.path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw TestServerError("cannot open the FIFO: errno \(errno)") }
    }

    /// Writes `line` and a newline.
    public func send(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// The end of input for the reader.
    public func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    deinit {
        close()
        unlink(url.path)
    }
}

/// Polls `text()` until it contains `needle`, for output written by another process
/// (which gives no event to await).
/// - Returns: whether it appeared within `seconds` (a generous bound on a busy machine,
///   not a timing expectation).
public func waitFor(_ needle: String, seconds: Double = 30, in text: () -> String) async -> Bool {
    (try? await eventually("\"\(needle)\"", within: seconds) { text().contains(needle) }) != nil
}
