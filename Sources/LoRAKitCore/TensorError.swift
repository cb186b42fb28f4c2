/// Errors from ``Tensor`` construction and shape checks on values that come from files, flags or requests.
public enum TensorError: Error, CustomStringConvertible, Equatable {
    /// The number of scalars does not match the product of the shape.
    case countMismatch(shape: [Int], scalarCount: Int)
    /// A dimension is negative.
    case negativeDimension(shape: [Int])

    public var description: String {
        switch self {
        case let .countMismatch(shape, count):
            return "shape \(shape) needs \(shape.reduce(1, *)) scalars but \(count) were given (hint: check the file's tensor shape)"
        case let .negativeDimension(shape):
            return "shape \(shape) has a negative dimension"
        }
    }
}
