import Testing
@testable import LoRAKitCore

@Suite struct TensorTests {
    @Test func constructorsAndAccessors() throws {
        let t = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(t.shape == [2, 3] && t.count == 6 && t.rank == 2)
        #expect(t.scalars == [1, 2, 3, 4, 5, 6])
        #expect(Tensor.zeros([3]).scalars == [0, 0, 0])
        #expect(Tensor.filled([2], value: 7).scalars == [7, 7])
        #expect(throws: TensorError.countMismatch(shape: [2, 2], scalarCount: 3)) {
            try Tensor(shape: [2, 2], scalars: [1, 2, 3])
        }
        #expect("\(TensorError.countMismatch(shape: [2, 2], scalarCount: 3))".contains("needs 4 scalars"))
    }

    @Test func storageIs64ByteAligned() {
        for n in [1, 17, 1000, 1 << 20] {
            Tensor.zeros([n]).withUnsafeBufferPointer { #expect(Int(bitPattern: $0.baseAddress) % 64 == 0) }
        }
    }

    @Test func copyOnWrite() {
        let a = Tensor([1, 2, 3], shape: [3])
        var b = a
        #expect(b.sharesStorage(with: a))
        b.withUnsafeMutableBufferPointer { $0[0] = 9 }
        #expect(a.scalars == [1, 2, 3] && b.scalars == [9, 2, 3])
        #expect(!b.sharesStorage(with: a))
        var c = Tensor([1, 2], shape: [2])
        c.withUnsafeMutableBufferPointer { $0[1] = 5 }  // unique: written in place
        #expect(c.scalars == [1, 5])
    }

    @Test func sharedMutationIsVisibleToAllCopies() {
        let a = Tensor([1, 2], shape: [2])
        let b = a
        a.withUnsafeSharedMutableBufferPointer { $0[0] = 4 }
        #expect(b.scalars == [4, 2])
    }

    @Test func viewsShareStorage() {
        let a = Tensor((0..<12).map(Float.init), shape: [4, 3])
        let r = a.rows(1..<3)
        #expect(r.shape == [2, 3] && r.scalars == [3, 4, 5, 6, 7, 8])
        let v = a.reshaped([2, -1])
        #expect(v.shape == [2, 6] && v.sharesStorage(with: a))
        var w = r
        w.withUnsafeMutableBufferPointer { $0[0] = -1 }  // view shared with `a`: copy first
        #expect(a.scalars[3] == 3 && w.scalars[0] == -1)
    }

    @Test func movementForward() {
        let x = Tensor((0..<24).map(Float.init), shape: [2, 3, 4])
        let p = x.permuted([1, 0, 2])
        #expect(p.shape == [3, 2, 4])
        #expect(p.scalars.prefix(8) == [0, 1, 2, 3, 12, 13, 14, 15])
        #expect(x.sliced(axis: 1, 1..<2).scalars == [4, 5, 6, 7, 16, 17, 18, 19])
        let c = Tensor.concatenated([x.sliced(axis: 2, 0..<1), x.sliced(axis: 2, 1..<4)], axis: 2)
        #expect(c.scalars == x.scalars)
        #expect(Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]).transposed().scalars == [1, 4, 2, 5, 3, 6])
    }

    /// SplitMix64 reference values (Vigna's splitmix64.c, seed 0) pin the generator across platforms.
    @Test func splitMixIsPortable() {
        var g = SplitMix64(seed: 0)
        #expect(g.next() == 0xE220_A839_7B1D_CDAF)
        #expect(g.next() == 0x6E78_9E6A_A1B9_65F4)
        let u = Tensor.randomUniform([1000], seed: 3).scalars
        #expect(u == Tensor.randomUniform([1000], seed: 3).scalars)
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        let n = Tensor.randomNormal([20000], std: 2, seed: 4).scalars
        let mean = n.reduce(0, +) / Float(n.count)
        let variance = n.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(n.count)
        #expect(abs(mean) < 0.05 && abs(variance.squareRoot() - 2) < 0.05)
        let k = Tensor.kaimingUniform([8, 16], seed: 5).scalars
        #expect(k.allSatisfy { abs($0) <= 0.25 })
    }

    @Test func parallelForVisitsEveryIndexOnce() {
        var seen = [Int](repeating: 0, count: 100_003)
        seen.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            parallelFor(p.count, grain: 100) { r in for i in r { base[i] += 1 } }
            parallelFor(p.count, grain: 100) { r in  // nested calls run serially
                for i in r { parallelFor(1, grain: 1) { _ in base[i] += 1 } }
            }
        }
        #expect(seen.allSatisfy { $0 == 2 })
    }

    @Test func oneThreadSetting() {
        let before = ComputeThreads.count
        ComputeThreads.set(1)
        #expect(ComputeThreads.count == 1)
        ComputeThreads.set(before)
        #expect(ComputeThreads.count == before)
    }
}
