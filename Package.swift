// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "roomkey",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "RoomKeyCore", targets: ["RoomKeyCore"]),
        .library(name: "RoomKey", targets: ["RoomKey"]),
        .executable(name: "roomkey", targets: ["roomkey"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        // X-Wing (ML-KEM-768 + X25519) and HPKE only, used in Sources/RoomKeyCore/Crypto alone.
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]
        ),
        .systemLibrary(
            name: "CQREncode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"]), .brew(["qrencode"])]
        ),
        .target(
            name: "RoomKeyCore",
            dependencies: ["CSodium", "CQREncode", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "RoomKey",
            dependencies: [
                "RoomKeyCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .executableTarget(
            name: "roomkey",
            dependencies: [
                "RoomKey",
                "RoomKeyCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "roomkey-bench",
            dependencies: ["RoomKey", "RoomKeyCore", "CSodium"],
            path: "Benchmarks/roomkey-bench"
        ),
        .target(
            name: "RoomKeyTestSupport",
            dependencies: ["RoomKeyCore"],
            path: "Tests/RoomKeyTestSupport"
        ),
        .testTarget(
            name: "RoomKeyCoreTests",
            dependencies: ["RoomKeyCore", "RoomKeyTestSupport", "CSodium"]
        ),
        .testTarget(
            name: "RoomKeyTests",
            dependencies: ["RoomKey", "RoomKeyCore", "RoomKeyTestSupport"]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "roomkey",
                "RoomKey",
                "RoomKeyCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ]
)
