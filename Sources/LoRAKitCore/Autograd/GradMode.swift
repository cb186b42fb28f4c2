import Foundation

/// Whether ops record autograd history on the current thread.
public enum GradMode {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    /// `true` unless the current thread is inside ``withNoGrad(_:)``.
    @inlinable public static var isEnabled: Bool { depth == 0 }

    @usableFromInline static var depth: Int {
        get { Int(bitPattern: pthread_getspecific(key)) }
        set { pthread_setspecific(key, UnsafeRawPointer(bitPattern: newValue)) }
    }
}

/// Runs `body` without recording autograd history (inference, optimizer updates). Nests; costs two
/// thread-local writes.
@inlinable
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    GradMode.depth += 1
    defer { GradMode.depth -= 1 }
    return try body()
}

/// Runs `body` with autograd recording on, even inside ``withNoGrad(_:)`` or a backward pass (gradient
/// checkpointing recomputes a forward there).
@inlinable
public func withGradEnabled<R>(_ body: () throws -> R) rethrows -> R {
    let saved = GradMode.depth
    GradMode.depth = 0
    defer { GradMode.depth = saved }
    return try body()
}
