// The module's C-style interface: what the JavaScript glue (Wasm/digits.js) calls.
//
// Compiled in one module with DigitsCore's own sources and DigitsVision's digit preparation
// (scripts/build-wasm.sh), so the page runs the same code as `digits`. Everything here is thin:
// it checks what JavaScript hands over, keeps objects in handle tables, and calls the library.
//
// Conventions: sizes and handles are Int32 (wasm32's Int), pointers are offsets into the
// module's memory (JavaScript allocates them with `digits_alloc`). A handle is 1 or more; 0 or
// a negative result means failure, and `digits_error_pointer`/`digits_error_length` then hold
// one line saying why.

// MARK: - Errors

nonisolated(unsafe) var errorBytes: [UInt8] = []

/// Records `message` as the last error and returns `code`.
func fail<T: BinaryInteger>(_ message: String, _ code: T = -1) -> T {
    errorBytes = Array(message.utf8)
    return code
}

@_cdecl("digits_error_pointer")
public func digits_error_pointer() -> UnsafePointer<UInt8>? {
    errorBytes.withUnsafeBufferPointer { $0.baseAddress }
}

@_cdecl("digits_error_length")
public func digits_error_length() -> Int32 { Int32(errorBytes.count) }

// MARK: - Memory for JavaScript

// `digits_alloc` and `digits_free` (memory for JavaScript to fill) are in Wasm/Runtime/runtime.c:
// running out of memory answers null there rather than trapping.

// MARK: - Handle tables

/// Objects JavaScript refers to by number; a freed slot is reused.
struct HandleTable<T: AnyObject> {
    private var slots: [T?] = []

    mutating func insert(_ object: T) -> Int32 {
        if let free = slots.firstIndex(where: { $0 == nil }) {
            slots[free] = object
            return Int32(free + 1)
        }
        slots.append(object)
        return Int32(slots.count)
    }

    subscript(handle: Int32) -> T? {
        let i = Int(handle) - 1
        return i >= 0 && i < slots.count ? slots[i] : nil
    }

    mutating func remove(_ handle: Int32) {
        let i = Int(handle) - 1
        if i >= 0 && i < slots.count { slots[i] = nil }
    }
}

/// A network and how its input bytes are scaled.
final class ModelBox {
    let model: Sequential
    var transform: InputTransform
    /// One sample's input, reused by `digits_read`.
    let single: Tensor
    /// The outputs of every layer for the last `digits_read`, kept so the page can show them.
    var layerOutputs: [Tensor]
    /// The model file's calibration temperature: scores are divided by it before the softmax
    /// (1 unless the file was calibrated, as `digits calibrate` does).
    var temperature: Float = 1

    init(model: Sequential, transform: InputTransform) {
        self.model = model
        self.transform = transform
        self.single = Tensor(shape: [1] + model.inputShape)
        self.layerOutputs = []
    }
}

nonisolated(unsafe) var models = HandleTable<ModelBox>()
nonisolated(unsafe) var datasets = HandleTable<DatasetBox>()
nonisolated(unsafe) var trainers = HandleTable<TrainerBox>()

/// A dataset of byte samples, as `digits` trains on.
final class DatasetBox {
    let data: Dataset
    init(_ data: Dataset) { self.data = data }
}
