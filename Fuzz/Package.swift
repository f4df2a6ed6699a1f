// swift-tools-version: 6.1
// libFuzzer targets for the core's decoders. A package of its own, so the main build and tests
// never see the sanitizer flags: build and run it with `Fuzz/run.sh SECONDS` (see README.md).
import PackageDescription

let core: [Target.Dependency] = [
    "FuzzDriver", "FuzzSupport",
    .product(name: "ClusterSyncCore", package: "ClusterSync"),
    .product(name: "NIOCore", package: "swift-nio"),
]
// No top-level code: each target's `<Module>_main` starts libFuzzer (see FuzzDriver.c).
let fuzzer: [SwiftSetting] = [.swiftLanguageMode(.v6), .unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "ClusterSyncFuzz",
    dependencies: [
        .package(name: "ClusterSync", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .target(name: "FuzzDriver"),
        .target(name: "FuzzSupport", swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(
            name: "FuzzLineDecoder",
            dependencies: core + [.product(name: "NIOEmbedded", package: "swift-nio")],
            swiftSettings: fuzzer),
        .executableTarget(name: "FuzzWireCodec", dependencies: core, swiftSettings: fuzzer),
        .executableTarget(name: "FuzzChangeCodec", dependencies: core, swiftSettings: fuzzer),
        .executableTarget(name: "FuzzAuthorName", dependencies: core, swiftSettings: fuzzer),
    ]
)
