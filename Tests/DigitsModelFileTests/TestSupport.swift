import DigitsCore
import Foundation

// Small helpers shared by the model-file tests.

/// A tensor of the given shape with values uniform in [-1, 1).
func randomTensor(_ shape: [Int], _ rng: inout RandomSource) -> Tensor {
    let t = Tensor(shape: shape)
    for i in 0..<t.count { t.data[i] = rng.uniform(-1, 1) }
    return t
}

/// Bit patterns of every parameter of a model, for exact comparisons.
func parameterBits(_ model: Sequential) -> [[UInt32]] {
    model.parameters.map { $0.value.array.map(\.bitPattern) }
}

/// A fresh, empty directory under the system's temporary directory.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("digits-model-file-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
