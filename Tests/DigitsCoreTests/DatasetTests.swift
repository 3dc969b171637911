import DigitsCore
import Testing

@Suite struct DatasetTests {
    static let data = Dataset(sampleShape: [1, 3], features: [0, 255, 10, 1, 2, 3, 100, 200, 50], labels: [2, 0, 1], classes: 3)

    @Test("gather: bytes · scale + offset, and labels, at the given indices")
    func gather() {
        let x = Tensor(shape: [0])
        var labels = [Int32](repeating: -1, count: 2)
        let indices = [2, 0]
        indices.withUnsafeBufferPointer {
            Self.data.gather($0, transform: InputTransform(scale: 0.5, offset: -1), into: x, labels: &labels)
        }
        #expect(x.shape == [2, 1, 3])
        #expect(x.array == [49, 99, 24, -1, 126.5, 4])
        #expect(labels == [1, 2])
        [1].withUnsafeBufferPointer { Self.data.gather($0, transform: .unit, into: x, labels: &labels) }
        expectClose(x.array, [1 / 255, 2 / 255, 3 / 255], relative: 1e-6, absolute: 0, "unit")
    }

    @Test("gather shares a large batch between threads: the plain conversion's values on 1, 2 and 3 threads",
          arguments: [1, 2, 3])
    func gatherThreads(threads: Int) {
        var rng = RandomSource(seed: 11)
        let samples = 90, size = 37
        let features = (0..<(samples * size)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let data = Dataset(sampleShape: [size], features: features, labels: (0..<samples).map { Int32($0 % 7) }, classes: 7)
        let indices = (0..<70).map { ($0 * 53) % samples }
        let x = Tensor(shape: [0])
        var labels = [Int32](repeating: -1, count: indices.count)
        let transform = InputTransform(scale: 1 / 255, offset: -0.5)
        Parallel.$threadCount.withValue(threads) {
            indices.withUnsafeBufferPointer { data.gather($0, transform: transform, into: x, labels: &labels) }
        }
        var expected: [Float] = []
        for i in indices { for q in 0..<size { expected.append(Float(features[i * size + q]) * transform.scale + transform.offset) } }
        #expect(x.shape == [indices.count, size])
        #expect(x.array.map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(labels == indices.map { Int32($0 % 7) })
    }

    @Test("subset keeps the samples of a range")
    func subset() {
        let s = Self.data.subset(1..<3)
        #expect(s.count == 2 && s.sampleShape == [1, 3] && s.classes == 3)
        #expect(s.features == [1, 2, 3, 100, 200, 50] && s.labels == [0, 1])
    }

    @Test("Tensor basics: shape, subscript, reshape reuses the buffer, clone copies")
    func tensor() {
        let t = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        #expect(t.rows == 2 && t.columns == 3 && t.count == 6)
        #expect(t[1, 2] == 6)
        t[0, 1] = 9
        #expect(t.array == [1, 9, 3, 4, 5, 6])
        let c = t.clone()
        c[0, 0] = -1
        #expect(t[0, 0] == 1)
        let p = t.data
        t.reshape(to: [3, 2])
        #expect(t.data == p && t[2, 1] == 6)
        t.reshape(to: [10])
        #expect(t.count == 10 && t.capacity >= 10)
        t.fill(2)
        #expect(t.array.allSatisfy { $0 == 2 })
        t.copy(from: c)
        #expect(t.shape == [2, 3] && t.array == [-1, 9, 3, 4, 5, 6])
        t.zero()
        #expect(t.array == [0, 0, 0, 0, 0, 0])
    }
}
