import ReadStatesPostgres
import Testing

/// `--postgres-url` as libpq spells it: what parses, and what is refused with a reason.
@Suite struct PostgresURLTests {
    @Test func aFullURLParses() throws {
        let url = try PostgresURL("postgres://readstates:s3cret@db.internal:5433/chat?sslmode=disable")
        #expect(url.host == "db.internal")
        #expect(url.port == 5433)
        #expect(url.username == "readstates")
        #expect(url.password == "s3cret")
        #expect(url.database == "chat")
        // Logged without the password.
        #expect(url.description == "postgres://readstates@db.internal:5433/chat?sslmode=disable")
    }

    @Test func defaultsAndEscapesAreLibpqs() throws {
        let url = try PostgresURL("postgresql://app%40ops:p%40ss%2Fword@127.0.0.1")
        #expect(url.port == 5432)
        #expect(url.username == "app@ops")
        #expect(url.password == "p@ss/word")
        #expect(url.database == nil)
        #expect(url.description.hasSuffix("?sslmode=prefer"))
        for mode in ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] {
            #expect(throws: Never.self) { try PostgresURL("postgres://u@h/d?sslmode=\(mode)") }
        }
    }

    @Test(arguments: [
        ("mysql://u@h/d", "the scheme must be postgres://"),
        ("http://u@h/d", "the scheme must be postgres://"),
        ("postgres://h/d", "no user name"),
        ("postgres://u@/d", "no host"),
        ("postgres://u@h/d?sslmode=sometimes", "unknown sslmode 'sometimes'"),
        ("postgres://u@h:0/d", "the port must be from 1 to 65535"),
        ("postgres://u@h:70000/d", "the port must be from 1 to 65535"),
        ("not a url", "the scheme must be postgres://"),
        ("", "the scheme must be postgres://"),
    ])
    func badURLsAreRefusedWithAReason(text: String, reason: String) {
        do {
            _ = try PostgresURL(text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect("\(error)".contains(reason), "\(text): \(error)")
        }
    }
}
