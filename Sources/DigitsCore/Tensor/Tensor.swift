/// A dense, row-major array of `Float` with a shape: the one data structure of Digits.
///
/// The storage is a single contiguous buffer that the tensor owns. A tensor is a class, so
/// passing it around never copies its values; layers keep their outputs and gradients in tensors
/// they allocate once and reuse for every step of training.
///
/// ```swift
/// let x = Tensor(shape: [64, 784])        // zeros
/// x[0, 5] = 1
/// x.reshape(to: [32, 784])                // reuses the buffer when it is large enough
/// ```
public final class Tensor: @unchecked Sendable {
    /// The size of each axis, outermost first. `[batch, features]` for a dense layer's input.
    public private(set) var shape: [Int]
    /// The number of values: the product of `shape`.
    public private(set) var count: Int
    /// How many values the buffer can hold without reallocating.
    public private(set) var capacity: Int
    /// The values, row-major, `count` of them.
    public private(set) var data: UnsafeMutablePointer<Float>

    // MARK: - Creating tensors

    /// A tensor of zeros.
    public init(shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.capacity = max(count, 1)
        self.data = Tensor.allocate(capacity)
    }

    /// A tensor holding `values`, which must have `shape.reduce(1, *)` elements.
    public convenience init(shape: [Int], values: [Float]) {
        self.init(shape: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    /// A tensor filled with `value`.
    public convenience init(shape: [Int], repeating value: Float) {
        self.init(shape: shape)
        data.update(repeating: value, count: count)
    }

    deinit { data.deallocate() }

    /// A zeroed buffer aligned to a 64-byte cache line, so that rows of 16 values (the GEMM
    /// kernel's panel width) of a matrix whose rows are multiples of 16 never straddle two lines.
    private static func allocate(_ n: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutableRawPointer.allocate(byteCount: n * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: n)
        p.initialize(repeating: 0, count: n)
        return p
    }

    // MARK: - Shape

    /// The number of rows when the tensor is seen as a matrix `(shape[0], rest)`.
    public var rows: Int { shape.first ?? 1 }
    /// The number of columns when the tensor is seen as a matrix `(shape[0], rest)`.
    public var columns: Int { rows == 0 ? 0 : count / rows }

    /// Changes the shape. The buffer is reused when it is large enough, so a layer can call this
    /// every step without allocating; it grows (and the values are lost) only when it must.
    /// New values are not cleared.
    public func reshape(to newShape: [Int]) {
        let n = newShape.reduce(1, *)
        if n > capacity {
            data.deallocate()
            capacity = n
            data = Tensor.allocate(n)
        }
        shape = newShape
        count = n
    }

    /// `reshape(to: [rows, columns])`, without building an array (an allocation) when the shape
    /// already is that, as it is from one training step to the next.
    public func reshape(rows: Int, columns: Int) {
        if shape.count == 2 && shape[0] == rows && shape[1] == columns { return }
        reshape(to: [rows, columns])
    }

    /// `reshape(to: [batch, channels, height, width])`, without allocating when the shape already
    /// is that.
    public func reshape(batch: Int, channels: Int, height: Int, width: Int) {
        if shape.count == 4 && shape[0] == batch && shape[1] == channels && shape[2] == height && shape[3] == width { return }
        reshape(to: [batch, channels, height, width])
    }

    /// `reshape(to: [batch] + sample)`, without allocating when the shape already is that.
    public func reshape(batch: Int, sample: [Int]) {
        if shape.count == sample.count + 1 && shape[0] == batch && shape.dropFirst().elementsEqual(sample) { return }
        reshape(to: [batch] + sample)
    }

    // MARK: - Values

    /// The value at a multi-dimensional index.
    public subscript(indices: Int...) -> Float {
        get { data[offset(indices)] }
        set { data[offset(indices)] = newValue }
    }

    private func offset(_ indices: [Int]) -> Int {
        precondition(indices.count == shape.count, "index \(indices) for shape \(shape)")
        var o = 0
        for (i, n) in zip(indices, shape) {
            precondition(i >= 0 && i < n, "index \(indices) out of range for shape \(shape)")
            o = o * n + i
        }
        return o
    }

    /// The values as an array (a copy).
    public var array: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    /// The values as a buffer, valid while the tensor lives and is not reshaped.
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }

    /// Sets every value to zero.
    public func zero() { data.update(repeating: 0, count: count) }

    /// Sets every value to `value`.
    public func fill(_ value: Float) { data.update(repeating: value, count: count) }

    /// Copies the values of `other`, taking its shape.
    public func copy(from other: Tensor) {
        reshape(to: other.shape)
        data.update(from: other.data, count: count)
    }

    /// A new tensor with the same shape and values.
    public func clone() -> Tensor {
        let t = Tensor(shape: shape)
        t.data.update(from: data, count: count)
        return t
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = (0..<min(count, 8)).map { String(data[$0]) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(count > 8 ? ", …" : "")])"
    }
}
