// swift-tools-version: 6.1
import PackageDescription

/// Hot numeric loops are compiled with full optimisation and no overflow/bounds traps in release builds.
let fast: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release)),
]

let package = Package(
    name: "LoRAKit",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "LoRAKit", targets: ["LoRAKit"]),
        .executable(name: "lorakit", targets: ["lorakit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(name: "CBLAS", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux])),
                                                 .linkedFramework("Accelerate", .when(platforms: [.macOS]))]),
        .target(name: "LoRAKitCore", dependencies: ["CBLAS"], swiftSettings: fast),
        .target(name: "LoRAKitFormats", dependencies: ["LoRAKitCore"], swiftSettings: fast),
        .target(name: "LoRAKitTokenizers", dependencies: ["LoRAKitFormats"], swiftSettings: fast),
        .target(name: "LoRAKitModels", dependencies: ["LoRAKitCore", "LoRAKitFormats", "LoRAKitTokenizers"],
                swiftSettings: fast),
        .target(name: "LoRAKitAdapters", dependencies: ["LoRAKitCore", "LoRAKitFormats", "LoRAKitModels"],
                swiftSettings: fast),
        .target(name: "LoRAKitTrain",
                dependencies: ["LoRAKitCore", "LoRAKitFormats", "LoRAKitTokenizers", "LoRAKitModels",
                               "LoRAKitAdapters"],
                swiftSettings: fast),
        .target(name: "LoRAKitServe",
                dependencies: ["LoRAKitCore", "LoRAKitFormats", "LoRAKitTokenizers", "LoRAKitModels",
                               "LoRAKitAdapters", .product(name: "Hummingbird", package: "hummingbird"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: fast),
        .target(name: "LoRAKit",
                dependencies: ["LoRAKitCore", "LoRAKitFormats", "LoRAKitTokenizers", "LoRAKitModels",
                               "LoRAKitAdapters", "LoRAKitTrain", "LoRAKitServe"]),
        .executableTarget(name: "lorakit",
                          dependencies: ["LoRAKit", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: fast),

        .testTarget(name: "LoRAKitCoreTests",
                    dependencies: ["LoRAKitCore", .product(name: "Numerics", package: "swift-numerics")]),
        .testTarget(name: "LoRAKitFormatsTests", dependencies: ["LoRAKitFormats"]),
        .testTarget(name: "LoRAKitModelsTests", dependencies: ["LoRAKitModels"]),
        .testTarget(name: "LoRAKitAdaptersTests", dependencies: ["LoRAKitAdapters"]),
        .testTarget(name: "LoRAKitTrainTests", dependencies: ["LoRAKitTrain"]),
        .testTarget(name: "lorakitTests", dependencies: ["lorakit"]),
        .testTarget(name: "LoRAKitTokenizersTests", dependencies: ["LoRAKitTokenizers"]),
        .testTarget(name: "LoRAKitServeTests",
                    dependencies: ["LoRAKitServe", .product(name: "HummingbirdTesting", package: "hummingbird")]),
    ],
    swiftLanguageModes: [.v5]
)
