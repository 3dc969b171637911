#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Packing buffers for `SIMDGEMM`, one set per thread.
///
/// Each thread that multiplies gets its own workspace the first time it does, kept in
/// thread-local storage, so the kernel can be called from any thread at once and a multiply
/// allocates nothing once the buffers have grown to the largest problem seen (they only grow).
final class GEMMWorkspace {
    /// Packed micro-panels of op(A): `MR` values a k-step, nonzero k-steps only.
    private(set) var a: UnsafeMutablePointer<Float>
    private(set) var aCapacity: Int
    /// For each packed k-step of each A micro-panel: its k index within the block.
    private(set) var aIndex: UnsafeMutablePointer<Int32>
    private(set) var aIndexCapacity: Int
    /// Packed micro-panels of op(B): `NR` values a k-step.
    private(set) var b: UnsafeMutablePointer<Float>
    private(set) var bCapacity: Int
    /// How many k-steps each A micro-panel of the current block kept.
    let aCounts: UnsafeMutablePointer<Int>
    /// A scratch tile, `MR × NR`, for the edges of C, then room for a wide tile's sums
    /// (`MR × NR · widePanels`).
    let tile: UnsafeMutablePointer<Float>

    init() {
        aCapacity = 0; aIndexCapacity = 0; bCapacity = 0
        a = GEMMWorkspace.allocate(Float.self, 0)
        aIndex = GEMMWorkspace.allocate(Int32.self, 0)
        b = GEMMWorkspace.allocate(Float.self, 0)
        aCounts = GEMMWorkspace.allocate(Int.self, SIMDGEMM.mc / SIMDGEMM.mr)
        tile = GEMMWorkspace.allocate(Float.self, SIMDGEMM.mr * SIMDGEMM.nr * (1 + SIMDGEMM.widePanels))
    }

    deinit {
        a.deallocate(); aIndex.deallocate(); b.deallocate(); aCounts.deallocate(); tile.deallocate()
    }

    /// Makes room for `aCount` packed A values (and `aCount / MR` indices, or `extra` if more)
    /// and `bCount` packed B values. Allocates only when a buffer must grow.
    @inline(__always)
    func reserve(a aCount: Int, b bCount: Int, indices extra: Int = 0) {
        if aCount > aCapacity {
            a.deallocate(); a = GEMMWorkspace.allocate(Float.self, aCount); aCapacity = aCount
        }
        let indices = max(aCount / SIMDGEMM.mr + 1, extra)
        if indices > aIndexCapacity {
            aIndex.deallocate(); aIndex = GEMMWorkspace.allocate(Int32.self, indices); aIndexCapacity = indices
        }
        if bCount > bCapacity {
            b.deallocate(); b = GEMMWorkspace.allocate(Float.self, bCount); bCapacity = bCount
        }
    }

    /// 64-byte aligned, so that packed panels start on a cache line.
    private static func allocate<T>(_ type: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
        UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * MemoryLayout<T>.stride, alignment: 64)
            .bindMemory(to: T.self, capacity: max(count, 16))
    }

    // MARK: - Per-thread storage

    /// The calling thread's workspace, made on first use and freed when the thread exits.
    #if canImport(Glibc) || canImport(Musl) || canImport(Darwin)
    @inline(__always)
    static var current: GEMMWorkspace {
        if let p = pthread_getspecific(workspaceKey) {
            return Unmanaged<GEMMWorkspace>.fromOpaque(p).takeUnretainedValue()
        }
        let w = GEMMWorkspace()
        pthread_setspecific(workspaceKey, Unmanaged.passRetained(w).toOpaque())
        return w
    }
    #else
    /// Without threads (Embedded Swift for WebAssembly), one workspace.
    static let current = GEMMWorkspace()
    #endif
}

#if canImport(Glibc) || canImport(Musl) || canImport(Darwin)
/// The thread-local slot holding each thread's `GEMMWorkspace` (released when the thread ends).
private let workspaceKey: pthread_key_t = {
    var key = pthread_key_t()
    let status = pthread_key_create(&key) { p in
        #if canImport(Darwin)
        Unmanaged<GEMMWorkspace>.fromOpaque(p).release()
        #else
        if let p { Unmanaged<GEMMWorkspace>.fromOpaque(p).release() }
        #endif
    }
    precondition(status == 0, "pthread_key_create failed")
    return key
}()
#endif
