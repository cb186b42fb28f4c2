/// A training problem with a one-line message that says what to change.
public struct TrainError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
