import Foundation
import Synchronization

/// The chat client's terminal side: whole lines to stdout (unbuffered, so a pipe or a
/// tmux pane shows each line at once), errors to stderr. Lines come from the client's
/// service thread and the input thread, so writes take a lock.
final class ChatConsole: Sendable {
    private let lock = Mutex(())

    func print(_ line: String) {
        write(line, to: .standardOutput)
    }

    func error(_ line: String) {
        write(line, to: .standardError)
    }

    private func write(_ line: String, to handle: FileHandle) {
        lock.withLock { _ in
            handle.write(Data((line + "\n").utf8))
        }
    }
}
