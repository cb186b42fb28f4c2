import Foundation

/// The reference-counted, 64-byte aligned `Float` buffer behind one or more ``Tensor`` values.
///
/// Buffers larger than ``TensorStorage/poolThreshold`` are recycled through a small size-keyed pool when freed, so a
/// training step that allocates the same activation shapes every step does not pay page faults for fresh memory.
public final class TensorStorage: @unchecked Sendable {
    /// Start of the buffer (64-byte aligned).
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of `Float` elements the buffer holds (at least what was asked: pooled sizes are rounded up).
    public let capacity: Int

    /// Allocates an uninitialised buffer of at least `capacity` floats.
    public init(capacity requested: Int) {
        let capacity = StoragePool.sizeClass(requested)
        self.capacity = capacity
        if let recycled = StoragePool.shared.take(capacity: capacity) {
            pointer = recycled
        } else {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 1) * MemoryLayout<Float>.stride,
                                                       alignment: 64)
            pointer = raw.bindMemory(to: Float.self, capacity: max(capacity, 1))
        }
    }

    deinit {
        if !StoragePool.shared.give(pointer, capacity: capacity) {
            UnsafeMutableRawPointer(pointer).deallocate()
        }
    }

    /// Buffers of at least this many floats (64 KiB) are pooled on release: below that, malloc's own free lists
    /// serve them without page faults; above, glibc would map and unmap fresh pages for every activation.
    public static let poolThreshold = 1 << 14
}

/// Size-keyed free lists of large buffers, bounded in total bytes.
final class StoragePool: @unchecked Sendable {
    static let shared = StoragePool()
    /// Upper bound of the bytes kept for reuse: a quarter of the machine's memory, at most 4 GiB. Freed activations
    /// wait here for the next step's forward pass instead of going back to the kernel and faulting in again.
    static let maxPooledBytes = Int(min(ProcessInfo.processInfo.physicalMemory / 4, 4 << 30))

    /// Pooled sizes are rounded up to one of 8 classes per power of two (at most 12.5% larger), so batches of
    /// varying sequence length reuse each other's buffers.
    static func sizeClass(_ n: Int) -> Int {
        guard n >= TensorStorage.poolThreshold else { return n }
        let shift = (Int.bitWidth - n.leadingZeroBitCount) - 4
        return ((n + (1 << shift) - 1) >> shift) << shift
    }

    private var lock = pthread_mutex_t()
    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var pooledBytes = 0

    init() { pthread_mutex_init(&lock, nil) }

    func take(capacity: Int) -> UnsafeMutablePointer<Float>? {
        guard capacity >= TensorStorage.poolThreshold else { return nil }
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        guard var list = free[capacity], let p = list.popLast() else { return nil }
        free[capacity] = list
        pooledBytes -= capacity * 4
        return p
    }

    func give(_ p: UnsafeMutablePointer<Float>, capacity: Int) -> Bool {
        guard capacity >= TensorStorage.poolThreshold else { return false }
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        guard pooledBytes + capacity * 4 <= StoragePool.maxPooledBytes else { return false }
        free[capacity, default: []].append(p)
        pooledBytes += capacity * 4
        return true
    }

    /// Frees every pooled buffer (e.g. after training, before serving).
    func drain() {
        pthread_mutex_lock(&lock)
        for (_, list) in free { for p in list { UnsafeMutableRawPointer(p).deallocate() } }
        free = [:]
        pooledBytes = 0
        pthread_mutex_unlock(&lock)
    }
}
