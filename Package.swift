// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "roomkey",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "RoomKey", targets: ["RoomKey"]),
        .executable(name: "roomkey", targets: ["roomkey"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
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
            name: "RoomKey",
            dependencies: [
                "CSodium",
                "CQREncode",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .executableTarget(
            name: "roomkey",
            dependencies: [
                "RoomKey",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "roomkey-bench",
            dependencies: ["RoomKey", "CSodium"],
            path: "Benchmarks/roomkey-bench"
        ),
        .testTarget(
            name: "RoomKeyTests",
            dependencies: ["RoomKey"]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "roomkey",
                "RoomKey",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ]
)
