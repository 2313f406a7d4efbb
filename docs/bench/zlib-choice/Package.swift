// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "zbench",
    products: [
        .executable(name: "zbench", targets: ["zbench"]),
        .executable(name: "zbench-direct", targets: ["zbench-direct"]),
    ],
    dependencies: [
        .package(url: "https://github.com/adam-fowler/compress-nio", exact: "1.5.0"),
    ],
    targets: [
        // (a) Debian's zlib, called directly
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // frames, harness, direct-zlib wrapper (no NIO)
        .target(name: "ZBenchCore", dependencies: ["CZlib"]),
        // direct only: used to time a build without compress-nio / swift-nio
        .executableTarget(name: "zbench-direct", dependencies: ["ZBenchCore"]),
        // both methods
        .executableTarget(name: "zbench", dependencies: [
            "ZBenchCore",
            .product(name: "CompressNIO", package: "compress-nio"),
        ]),
    ]
)
