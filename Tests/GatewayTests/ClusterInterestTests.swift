@testable import Gateway
import ReadStatesModule
import Snowflake
import Synchronization
import Testing

/// Which channels a node listens to: those with a member who has a session here, until
/// the last one has been idle for the resume window; changes of a channel's members
/// count at once.
@Suite struct ClusterInterestTests {
    final class Changes: Sendable {
        let log = Mutex<[(listen: [Snowflake], stop: [Snowflake])]>([])
        var all: [(listen: [Snowflake], stop: [Snowflake])] { log.withLock { $0 } }
    }

    func make() -> (ClusterInterest, ChannelDirectory, Changes) {
        let directory = ChannelDirectory([
            ChatChannel(id: id(10), name: "a", members: [id(1), id(2)]),
            ChatChannel(id: id(11), name: "b", members: [id(2), id(3)]),
        ])
        let changes = Changes()
        let interest = ClusterInterest(directory: directory, windowMilliseconds: 1_000) { listen, stop in
            changes.log.withLock { $0.append((listen.sorted(), stop.sorted())) }
        }
        return (interest, directory, changes)
    }

    @Test func aMembersSessionMakesTheNodeListenUntilItHasBeenIdleForTheWindow() {
        let (interest, _, changes) = make()
        interest.attached(id(2))
        #expect(interest.channels == [id(10), id(11)])
        interest.attached(id(1))  // channel 10 is listened to already: nothing new
        #expect(changes.all.count == 1)
        interest.detached(id(2), now: 100)
        interest.sweep(now: 500)  // within the window: a RESUME may come
        #expect(interest.channels == [id(10), id(11)])
        interest.sweep(now: 1_100)
        // 11 had only user 2 here; 10 still has user 1.
        #expect(interest.channels == [id(10)])
        #expect(changes.all.last?.stop == [id(11)])
        // A user connected again within the window keeps counting.
        interest.detached(id(1), now: 2_000)
        interest.attached(id(1))
        interest.sweep(now: 10_000)
        #expect(interest.channels == [id(10)])
    }

    @Test func aChannelWhoseMembersChangeIsLookedAtAgain() {
        let (interest, directory, _) = make()
        interest.attached(id(3))
        #expect(interest.channels == [id(11)])
        directory.add(ChatChannel(id: id(12), name: "new", members: [id(3), id(4)]))
        interest.channelChanged(id(12))
        #expect(interest.channels == [id(11), id(12)])
        directory.add(ChatChannel(id: id(11), name: "b", members: [id(2)]))
        interest.channelChanged(id(11))
        #expect(interest.channels == [id(12)])
    }
}
