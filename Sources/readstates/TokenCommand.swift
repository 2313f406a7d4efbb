import ArgumentParser
import Foundation
import Gateway
import Snowflake

/// `readstates token --user ID`: a session token signed with the server's secret.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print a token for a user, signed with the server's secret.",
        discussion: "The secret is created in the data directory when it is not there yet. Exit status: 0 on success, 2 for a bad user ID, 1 when the secret cannot be read."
    )

    @Option(help: "The user's Snowflake ID.")
    var user: String?

    @Flag(help: "Print the admin token instead (for POST /api/channels).")
    var admin = false

    @OptionGroup var secret: SecretOptions

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
        do {
            let authority = try secret.authority(createIfMissing: true)
            print(admin ? authority.adminToken : authority.mint(user: id))
        } catch {
            FileHandle.standardError.write(Data("readstates token: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
