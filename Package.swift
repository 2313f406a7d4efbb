// swift-tools-version: 6.2
import PackageDescription

/// Settings every target of ours shares (the swift-log / hummingbird pattern):
/// explicit `any`, imports that are internal unless marked `public`, and members
/// visible only through imports the file itself declares.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "readstates",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "readstates", targets: ["readstates"]),
        .library(name: "Snowflake", targets: ["Snowflake"]),
        .library(name: "ReadStatesModule", targets: ["ReadStatesModule"]),
        .library(name: "ReadStatesSQLite", targets: ["ReadStatesSQLite"]),
        .library(name: "ReadStatesPostgres", targets: ["ReadStatesPostgres"]),
        .library(name: "LWSTransport", targets: ["LWSTransport"]),
        .library(name: "Cluster", targets: ["Cluster"]),
        .library(name: "Gateway", targets: ["Gateway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Already in the graph through postgres-nio; the gateway signs tokens with it.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Already in the graph through postgres-nio; `serve` runs its parts as Services.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CWebsockets",
            pkgConfig: "libwebsockets",
            providers: [.apt(["libwebsockets-dev", "libev-dev", "libssl-dev", "libcap-dev"])]
        ),
        // zlib-stream transport compression (Discord's `?compress=zlib-stream`).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // The cluster's Redis client (hiredis, with its libev adapter: replies on our loop).
        // No pkgConfig: hiredis.pc's only flag (-D_FILE_OFFSET_BITS=64, a no-op on 64-bit)
        // is one SwiftPM refuses with a warning on every build; the headers are in
        // /usr/include/hiredis.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev", "libev-dev"])]),
        // glibc's `mallopt` for the servers' arenas (part of libc: nothing to install).
        .systemLibrary(name: "CMalloc"),
        .target(name: "Snowflake", swiftSettings: swiftSettings),
        .target(
            name: "ReadStatesModule",
            dependencies: ["Snowflake", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ReadStatesSQLite",
            dependencies: ["ReadStatesModule", "Snowflake", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ReadStatesPostgres",
            dependencies: [
                "ReadStatesModule",
                "Snowflake",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        /// libwebsockets behind Swift: contexts on libev loops, service threads, their
        /// inboxes, WebSocket frames, HTTP, the client; nothing of the gateway.
        .target(name: "LWSTransport", dependencies: ["CWebsockets"], swiftSettings: swiftSettings),
        /// Nodes meeting in Redis: membership with a TTL, rendezvous ownership, messages
        /// and requests between nodes; nothing of the gateway.
        .target(
            name: "Cluster",
            dependencies: ["CHiredis", "Snowflake", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Gateway",
            dependencies: [
                "Cluster",
                "LWSTransport",
                "CZlib",
                "ReadStatesModule",
                "Snowflake",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The web client served at `/` (HTML, CSS, JavaScript modules; no toolchain).
            resources: [.copy("WebClient")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "readstates",
            dependencies: [
                "CMalloc",
                "Cluster",
                "Gateway",
                "LWSTransport",
                "ReadStatesModule",
                "ReadStatesSQLite",
                "ReadStatesPostgres",
                "Snowflake",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        /// libFuzzer harnesses (scripts/fuzz.sh builds them with the sanitizers); a
        /// plain build replays inputs: `readstates-fuzz TARGET FILE...`.
        .executableTarget(
            name: "readstates-fuzz",
            dependencies: ["FuzzerDriver", "Gateway", "LWSTransport", "ReadStatesModule", "Snowflake"],
            path: "Tests/Fuzz/Harness",
            swiftSettings: swiftSettings
        ),
        .target(name: "FuzzerDriver", path: "Tests/Fuzz/FuzzerDriver"),
        /// Fixtures the test targets share (a real PostgreSQL server); not a product.
        .target(name: "TestSupport", dependencies: ["Gateway", "LWSTransport"], path: "Tests/Support", swiftSettings: swiftSettings),
        .testTarget(name: "SnowflakeTests", dependencies: ["Snowflake"], swiftSettings: swiftSettings),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "LWSTransportTests", dependencies: ["LWSTransport", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ReadStatesModuleTests",
            dependencies: ["ReadStatesModule", "Snowflake", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReadStatesStoreTests",
            dependencies: [
                "ReadStatesModule", "ReadStatesSQLite", "ReadStatesPostgres", "Snowflake", "TestSupport",
                // Writes a database as an older release did, for the migration tests.
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ReadStatesCLITests",
            dependencies: ["readstates", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: ["Gateway", "LWSTransport", "ReadStatesModule", "Snowflake", "TestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
