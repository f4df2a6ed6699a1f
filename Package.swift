// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "ClusterSync",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ClusterSyncCore", targets: ["ClusterSyncCore"]),
        .library(name: "ClusterSyncClient", targets: ["ClusterSyncClient"]),
        .library(name: "ClusterSyncServer", targets: ["ClusterSyncServer"]),
        .library(name: "ClusterSyncServerTesting", targets: ["ClusterSyncServerTesting"]),
        .executable(name: "clustersync", targets: ["clustersync"]),
        .executable(name: "clustersyncd", targets: ["clustersyncd"]),
        .executable(name: "clustersync-bench", targets: ["clustersync-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        // CSV import (`clustersync import`): quoted fields with line breaks, kept byte for byte.
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
        // The local web app (issue 11).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // The PostgreSQL server store (issue 13): several clustersyncd nodes sharing one database.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // Signatures and keys in base64: Foundation's decoder on Linux cost a fifth of reading a change.
        .package(url: "https://github.com/swift-extras/swift-extras-base64", from: "1.2.0"),
    ],
    targets: [
        // No I/O: clock, CRDTs, record types, wire messages and codec, session state machines.
        .target(
            name: "ClusterSyncCore",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                // SHA-256 of the tamper-evident log's chain rule (pure computation, no I/O).
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ExtrasBase64", package: "swift-extras-base64"),
            ],
            swiftSettings: strict
        ),
        // SQLite's process-wide settings, set through C: `sqlite3_config` is variadic.
        .target(
            name: "CSQLiteSettings",
            dependencies: [.product(name: "GRDBSQLite", package: "GRDB.swift")]
        ),
        // The materialised CRDT state in SQLite, shared by the replica and the server's SQLite store.
        .target(
            name: "ClusterSyncStorage",
            dependencies: [
                "ClusterSyncCore", "CSQLiteSettings",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        // Certificates (development CA, practice certificates) and TLS settings for both ends.
        .target(
            name: "ClusterSyncTLS",
            dependencies: [
                "ClusterSyncCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // What both executables share: exit codes, text tables.
        .target(
            name: "ClusterSyncCommandLine",
            dependencies: ["ClusterSyncCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        // A practice's replica (SQLite through GRDB) and its sync session.
        .target(
            name: "ClusterSyncClient",
            dependencies: [
                "ClusterSyncCore", "ClusterSyncStorage", "ClusterSyncTLS",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "CSV", package: "CSV.swift"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "ClusterSyncServer",
            dependencies: [
                "ClusterSyncCore", "ClusterSyncStorage", "ClusterSyncTLS",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict
        ),
        // The local web app: server-rendered pages over the practice's own replica, loopback only.
        .target(
            name: "ClusterSyncApp",
            dependencies: [
                "ClusterSyncCore", "ClusterSyncClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // For tests of code that talks to a server store: an in-memory ServerStore, and the
        // golden wire transcripts' loader.
        .target(
            name: "ClusterSyncServerTesting",
            dependencies: [
                "ClusterSyncCore", "ClusterSyncServer", "ClusterSyncStorage",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        // For tests of code that edits replicas: random edits of every kind, seeded.
        .target(name: "ClusterSyncClientTesting", dependencies: ["ClusterSyncClient", "ClusterSyncCore"], swiftSettings: strict),
        .executableTarget(
            name: "clustersync",
            dependencies: [
                "ClusterSyncCore", "ClusterSyncClient", "ClusterSyncCommandLine", "ClusterSyncApp",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "clustersyncd",
            dependencies: [
                "ClusterSyncCore", "ClusterSyncServer", "ClusterSyncTLS", "ClusterSyncCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "clustersync-bench",
            dependencies: [
                "ClusterSyncCore", "ClusterSyncClient", "ClusterSyncServer", "ClusterSyncTLS", "ClusterSyncStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // The load generator's TLS clients.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            // The measurements' history, beside the program that makes them (README, Speed).
            exclude: ["MEASUREMENTS.md"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ClusterSyncCoreTests",
            dependencies: ["ClusterSyncCore", "ClusterSyncServerTesting", .product(name: "NIOTestUtils", package: "swift-nio")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ClusterSyncClientTests",
            dependencies: [
                "ClusterSyncClient", "ClusterSyncClientTesting", "ClusterSyncCommandLine", .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // Exports read back by the CSV library the import uses.
                .product(name: "CSV", package: "CSV.swift"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "ClusterSyncServerTests",
            dependencies: [
                "ClusterSyncServer", "ClusterSyncServerTesting", "ClusterSyncTLS", "ClusterSyncCore",
                // The admission vectors run through the server's and the replica's paths.
                "ClusterSyncClient", "ClusterSyncClientTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // Deploy/clustersyncd.json read through ServerSettings as the server reads it.
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                // A fresh PostgreSQL database per test (StoreBackend).
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict
        ),
        // GRDB: to damage a server store file the way an older server could have written it.
        .testTarget(name: "EndToEndTests", dependencies: ["ClusterSyncCore", "ClusterSyncTLS", .product(name: "GRDB", package: "GRDB.swift")],
                    swiftSettings: strict),
        // The web app's pure parts; its pages are tested in a real browser (Tests/Browser).
        .testTarget(name: "ClusterSyncAppTests", dependencies: ["ClusterSyncApp", "ClusterSyncClient"], swiftSettings: strict),
    ]
)
