import ArgumentParser
import Foundation
import Gateway
import Snowflake

/// `readstates token --user ID`: a session token signed with the server's secret.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print a token for a user, signed with the server's secret.",
        discussion: "Exit status: 0 on success, 2 for a bad user ID, 1 when the secret cannot be read."
    )

    @Option(help: "The user's Snowflake ID.")
    var user: String?

    @Flag(help: "Print the admin token instead (for POST /api/channels).")
    var admin = false

    @Option(help: "The server's data directory (its secret is DATA_DIR/secret, created if missing).")
    var dataDir = "./data"

    @Option(help: "The secret file the server was started with (--secret-file).")
    var secretFile: String?

    func validate() throws {
        guard (user == nil) == admin else { throw ValidationError("give either --user ID or --admin") }
    }

    func run() throws {
        var id = Snowflake(rawValue: 0)
        if let user {
            do {
                id = try Snowflake.parse(user)
            } catch {
                FileHandle.standardError.write(Data("readstates token: --user: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        let url = secretFile.map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: dataDir).appendingPathComponent(ServerSecret.fileName)
        do {
            let secret = try ServerSecret.load(from: url, createIfMissing: secretFile == nil)
            let authority = TokenAuthority(secret: secret)
            print(admin ? authority.adminToken : authority.mint(user: id))
        } catch {
            FileHandle.standardError.write(Data("readstates token: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
