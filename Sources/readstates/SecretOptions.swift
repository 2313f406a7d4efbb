import ArgumentParser
import Foundation
import Gateway

/// Where the server's token secret is: `DATA_DIR/secret` or `--secret-file`. Shared
/// by the commands that mint tokens (`token`, `chat --user`, `loadgen`).
struct SecretOptions: ParsableArguments {
    @Option(help: "The server's data directory (its secret is DATA_DIR/secret).")
    var dataDir = StoreOptions.defaultDataDirectory

    @Option(help: "The secret file the server was started with (--secret-file).")
    var secretFile: String?

    /// - Parameter create: make the secret when it is missing (only `token` does: a
    ///   client needs the server's own secret, not a new one).
    func authority(createIfMissing create: Bool) throws -> TokenAuthority {
        TokenAuthority(
            secret: try ServerSecret.load(
                secretFile: secretFile, dataDirectory: URL(fileURLWithPath: dataDir), createInDataDirectory: create
            )
        )
    }
}
