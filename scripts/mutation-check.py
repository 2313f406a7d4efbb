#!/usr/bin/env python3
"""Breaks the product on purpose, one mutation at a time, and checks that the named
tests fail; restores every file afterwards. docs/TESTING.md lists the results.

Usage: scripts/mutation-check.py [NAME ...]   (default: every mutation)
Needs a built tree (scripts/test.sh once); rebuilds incrementally per mutation, so a
full pass takes 15-25 minutes on 2 cores. Not part of scripts/test.sh.
"""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# name: (file, text to replace, replacement, swift test --filter, what it breaks);
# several replacements in one file: a list of (old, new) pairs and None.
MUTATIONS = {
    "cluster-ack-not-published": (
        "Sources/Gateway/Core/GatewayCore+Requests.swift",
        '            if ownership.isClustered { actions.append(.publish(type: "MESSAGE_ACK", target: .users([user]), message: nil, payload: payload)) }\n',
        "",
        "ClusterServeTests/threeNodesServeEveryUserWhereverItsSessionsAreAndHealAfterADeathAJoinAndARedisRestart",
        "a MESSAGE_ACK reaches only the sessions on the node that applied the ack",
    ),
    "cluster-mention-counted-here": (
        "Sources/Gateway/Core/GatewayCore+Requests.swift",
        "            guard ownership.owns(mentioned) else {\n",
        "            guard ownership.owns(mentioned) || true else {\n",
        "GatewayCoreClusterTests",
        "a node counts a mention in its own engine for a user another node owns",
    ),
    "cluster-no-release-on-join": (
        "Sources/Gateway/Cluster/GatewayCluster.swift",
        "                    return owner != me || previousOwner != me\n",
        "                    return false\n",
        "ClusterServeTests/threeNodesServeEveryUserWhereverItsSessionsAreAndHealAfterADeathAJoinAndARedisRestart",
        "an old owner keeps (and keeps changing) users that moved to a new node",
    ),
    "signal-handler-late": (
        "Sources/readstates/ReadStatesCommand.swift",
        "            _ = ShutdownSignal.install()\n",
        "",
        "ServeSignalTests",
        "serve catches SIGTERM only in run(), after Swift's task pool started (as before the fix)",
    ),
    "close-handshake-cut": (
        "Sources/LWSTransport/WebSocketFrames.swift",
        "        if closeHandedOver { return 0 }\n",
        "",
        "PythonClientTests/closeCodesReachAClientThatIsStillSending",
        "the server drops the TCP connection right after its close frame (as before the fix)",
    ),
    "client-frame-malformed": (
        "Sources/Gateway/Protocol/ClientPayload+Encoding.swift",
        'case .identify(let token, let readStateVersion):\n            writer.beginObject()\n            writer.key("token")',
        'case .identify(let token, let readStateVersion):\n            writer.beginObject()\n            writer.key("tokn")',
        "GatewayClientSessionTests",
        "the client's IDENTIFY names its token field wrongly",
    ),
    "partial-across-generations": (
        "Sources/Gateway/Protocol/ReadStateVersions.swift",
        "        guard clientVersion >> 32 == UInt64(generation) else { return nil }\n",
        "",
        "GatewayCoreTests/aVersionedIdentifyGetsExactlyTheStatesChangedSinceItsVersion",
        "a version of another generation (a crash since) gets a partial READY",
    ),
    "generation-kept-after-crash": (
        "Sources/ReadStatesModule/ServingHistory.swift",
        "return wasServing ? next(after: stored) : stored",
        "return stored",
        "ServingHistoryTests",
        "a run that never ended cleanly keeps the generation: clients miss lost changes",
    ),
    "partial-ready-resends-seen": (
        "Sources/Gateway/Protocol/ReadStatePayloads.swift",
        "sent = states.filter { $0.version > seen }",
        "sent = states.filter { $0.version >= seen }",
        "GatewayCoreTests/aVersionedIdentifyGetsExactlyTheStatesChangedSinceItsVersion",
        "a partial READY also carries the state at the client's own version",
    ),
    "zlib-no-sync-flush": (
        "Sources/Gateway/Compression/ZlibStreamDeflater.swift",
        "status = deflate(stream, Z_SYNC_FLUSH)",
        "status = deflate(stream, Z_NO_FLUSH)",
        "ZlibStreamTests",
        "compressed payloads are not flushed: no 00 00 ff ff, the client cannot inflate them",
    ),
    "json-bool-as-number": (
        "Sources/Gateway/Protocol/JSONWriter.swift",
        'literal(value ? "true" : "false")',
        'literal(value ? "1" : "0")',
        "JSONWriterTests",
        "booleans written as 1 and 0",
    ),
    "bench-crash-on-bad-mix": (
        "Sources/readstates/BenchCommand.swift",
        '            throw ValidationError("--mix takes three percentages that add up to 100, e.g. 60,35,5")',
        '            fatalError("--mix takes three percentages that add up to 100, e.g. 60,35,5")',
        "BenchCommandTests",
        "a bad --mix crashes the process instead of a usage error",
    ),
    "sqlite-older-write-wins": (
        "Sources/ReadStatesSQLite/SQLiteReadStatesStore.swift",
        "WHERE excluded.version > read_states.version",
        "WHERE excluded.version > 0",
        "WriteBehindStoreTests/anOlderWriteLandingLateDoesNotMoveTheStoreBackwards",
        "SQLite lets an older version overwrite a newer one",
    ),
    "load-ignores-pending": (
        "Sources/ReadStatesModule/WriteBehind.swift",
        "guard var merged = pending.withLock({ $0.states[user] }) else { return try await store.load(user: user) }",
        "guard var merged = Optional<[Snowflake: ReadState]>.none else { return try await store.load(user: user) }",
        "GatewayStoreTests/changesForAnEvictedUserReloadItFirstAndLoseNothing",
        "a reload of an evicted user ignores its states still waiting for the store",
    ),
    "ready-failure-not-closed": (
        "Sources/Gateway/Core/GatewayCore.swift",
        "    public mutating func readyFailed(_ id: Int) -> [Action] {\n        close(id, .unknownError)",
        "    public mutating func readyFailed(_ id: Int) -> [Action] {\n        []",
        "GatewayStoreTests/aFailedLoadAtIdentifyClosesWith4000AndARetryWorks",
        "a failed load at IDENTIFY leaves the connection waiting for ever",
    ),
    "api-serves-while-stopping": (
        "Sources/Gateway/HTTP/RESTAPI.swift",
        'if parts.first == "api" && !serving() {',
        'if parts.first == "api" && !serving() && false {',
        "GatewayStoreTests/theAPIAnswers503WhileStopping",
        "the API takes new work while the server stops",
    ),
    "flusher-busy-loop": (
        "Sources/ReadStatesModule/WriteBehind.swift",
        "wait = min(wait * 2, .seconds(30))",
        "wait = interval",
        "WriteBehindBackOffTests",
        "the flusher retries a failing store at its normal interval (no back-off)",
    ),
    "final-flush-failure-exit-0": (
        "Sources/readstates/ServeCommand.swift",
        "        } catch is FinalWriteFailed {\n            throw ExitCode(1)\n        }\n        if !finalWriteSucceeded.value || fatal.value { throw ExitCode(1) }",
        "        } catch is FinalWriteFailed {\n            return\n        }\n        if fatal.value { throw ExitCode(1) }",
        "ServeCommandTests/aFailedFinalFlushExitsOneAndNamesWhatIsLost",
        "serve exits 0 when the final flush failed",
    ),
    "postgres-port-unchecked": (
        "Sources/ReadStatesPostgres/PostgresURL.swift",
        'if let port = components.port, !(1...65_535).contains(port) { throw .invalidURL("the port must be from 1 to 65535") }',
        "",
        "PostgresURLTests",
        "a PostgreSQL URL with port 0 or 70000 is accepted",
    ),
    "snowflake-lost-update": (
        "Sources/Snowflake/SnowflakeGenerator.swift",
        [
            (
                "            let issued: Snowflake? = state.withLock { state in",
                "            var unlocked = state.withLock { $0 }\n"
                "            defer { state.withLock { $0 = unlocked } }\n"
                "            let issued: Snowflake? = { (state: inout State) -> Snowflake? in",
            ),
            ("            }\n            if let issued { return issued }", "            }(&unlocked)\n            if let issued { return issued }"),
        ],
        None,
        "SnowflakeGeneratorTests/eightTasksTogetherGetAMillionUniqueIncreasingIDs",
        "the generator reads and writes its state under two holds of the lock (a lost update)",
    ),
    "web-markup-as-html": (
        "Sources/Gateway/WebClient/app.js",
        "content.textContent = message.content;",
        "content.innerHTML = message.content;",
        "WebClientTests/twoPagesOfOneUserAndOneOfAnotherFollowReadStatesLive",
        "the web client renders a message's markup",
    ),
    "web-unread-not-kept": (
        "Sources/Gateway/WebClient/app.js",
        'document.visibilityState !== "visible" || keptUnread.has(openId)) return;',
        'document.visibilityState !== "visible") return;',
        "WebClientTests/twoPagesOfOneUserAndOneOfAnotherFollowReadStatesLive",
        "a channel marked unread while open is read again by the next message",
    ),
    "web-4004-retried": (
        "Sources/Gateway/WebClient/gateway.js",
        "const FATAL_CODES = new Set([4004]);",
        "const FATAL_CODES = new Set([]);",
        "WebClientTests/twoPagesOfOneUserAndOneOfAnotherFollowReadStatesLive",
        "the web client retries a refused token for ever",
    ),
    "core-ack-to-one-session": (
        "Sources/Gateway/Protocol/SessionRegistry.swift",
        "        for slot in userSlots.more { dispatch(event, toSlot: slot, deliver) }\n",
        "",
        "GatewayCoreTests",
        "a dispatch to a user reaches only one of the user's sessions",
    ),
    "close-deadline-gone": (
        "Sources/LWSTransport/Server/LWSServer.swift",
        "        OutgoingFrames.limitClose(of: socket.wsi, seconds: configuration.closeDeadlineSeconds)\n",
        "",
        "PythonClientTests/aClientThatStopsReadingIsDisconnectedAndOthersAreServed",
        "a closed connection whose client never reads again stays open for good",
    ),
    "mentions-any-member": (
        "Sources/Gateway/Chat/MessageMentions.swift",
        "user != author, memberSet?.contains(user) ?? members.contains(user), !named.contains(user)",
        "user != author, !named.contains(user)",
        "MessageMentionsTests",
        "a mention of someone outside the channel counts",
    ),
    "core-resume-no-takeover": (
        "Sources/Gateway/Core/GatewayCore.swift",
        "                actions += closeTakenOver(previous, .unknownError)\n",
        "",
        "GatewayCoreTests",
        "a RESUME on a new connection leaves the old connection of the session open",
    ),
    "migration-renamed": (
        "Sources/ReadStatesSQLite/SQLiteReadStatesStore.swift",
        'migrator.registerMigration("v1-read-states")',
        'migrator.registerMigration("v1-read-states-again")',
        "SchemaMigrationTests",
        "a released migration renamed: a v1 database runs it again",
    ),
}


def run(command, **options):
    return subprocess.run(command, cwd=ROOT, text=True, capture_output=True, **options)


def main(names):
    results = []
    # The named tests must pass on the tree as it is, or a failure proves nothing.
    baseline = run(["timeout", "600", "swift", "test", "--filter", "|".join(sorted({m[3] for m in MUTATIONS.values()}))])
    if baseline.returncode != 0:
        print("the tests fail without any mutation: fix that first\n" + baseline.stdout[-3000:])
        return 2
    for name in names or MUTATIONS:
        path, old, new, test, what = MUTATIONS[name]
        # One replacement, or a list of them (with `new` None).
        replacements = old if new is None else [(old, new)]
        file = ROOT / path
        original = file.read_text()
        if any(original.count(before) != 1 for before, _ in replacements):
            results.append((name, "NOT APPLIED (text not found once)", test, what))
            print(f"{name}: not applied", flush=True)
            continue
        try:
            mutated = original
            for before, after in replacements:
                mutated = mutated.replace(before, after)
            file.write_text(mutated)
            build = run(["swift", "build", "--build-tests"])
            if build.returncode != 0:
                results.append((name, "does not compile", test, what))
                print(f"{name}: does not compile\n{build.stdout[-2000:]}", flush=True)
                continue
            tests = run(["timeout", "600", "swift", "test", "--skip-build", "--filter", test])
            # Caught: a test reported a failure. A time-out or a crash says nothing.
            if tests.returncode == 124:
                verdict = "INCONCLUSIVE (timed out)"
            elif tests.returncode != 0 and "\u2718 Test" in tests.stdout:
                verdict = "caught"
            elif tests.returncode != 0:
                verdict = f"INCONCLUSIVE (exit {tests.returncode}, no failed test reported)"
            else:
                verdict = "NOT CAUGHT"
            results.append((name, verdict, test, what))
        finally:
            file.write_text(original)
        print(f"{name}: {results[-1][1]} by {test}", flush=True)
    run(["swift", "build", "--build-tests"])
    print("\n| mutation | what it breaks | test | result |\n|---|---|---|---|")
    for name, result, test, what in results:
        print(f"| {name} | {what} | {test} | {result} |")
    return 0 if all(r[1] == "caught" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
