import Foundation
public import Snowflake

/// Who a message mentions: `<@ID>` (or `<@!ID>`) for each member named, `@everyone`
/// for every member; never the author, never someone outside the channel.
public struct MessageMentions: Sendable, Equatable {
    public var users: [Snowflake]
    public var everyone: Bool

    public init(content: String, members: [Snowflake], author: Snowflake) {
        let memberSet = Set(members)
        everyone = content.contains("@everyone")
        var named: [Snowflake] = []
        var rest = content[...]
        while let open = rest.range(of: "<@") {
            rest = rest[open.upperBound...]
            if rest.hasPrefix("!") { rest = rest.dropFirst() }
            guard let close = rest.firstIndex(of: ">") else { break }
            if let user = Snowflake(String(rest[..<close])), memberSet.contains(user), user != author, !named.contains(user) {
                named.append(user)
            }
            rest = rest[close...]
        }
        users = everyone ? members.filter { $0 != author } : named
    }
}
