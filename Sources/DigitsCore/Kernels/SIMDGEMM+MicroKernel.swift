// MARK: - The micro-kernels

/// The innermost loops of `SIMDGEMM`: one register tile of C, its multiply-adds over the packed
/// panels, and how the finished tile is stored (scaled, added to C, biased, activated, or
/// transposed).
extension SIMDGEMM {
    /// One `mr × nr` tile: acc = Σ over the packed k-steps of a[:, q] ⊗ b[q, :]; then
    /// C[:rows, :cols] = alpha · acc + beta · C (C not read when beta is 0), then bias and
    /// activation when given.
    ///
    /// `dense` means the panel of A kept every k-step, so B is read straight through; otherwise
    /// `indices` says which row of B each packed A column pairs with. Row q of the B panel starts
    /// at `b + q·bStride` (16 for a packed panel, ldb when read in place).
    @inline(__always)
    static func microKernel(count: Int, dense: Bool,
                            a: UnsafePointer<Float>, aRowStride: Int, aStep: Int, indices: UnsafePointer<Int32>,
                            b: UnsafePointer<Float>, bStride: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, transposedC: Bool, rows: Int, cols: Int,
                            alpha: Float, beta: Float, bias: UnsafePointer<Float>?, activation: Activation?,
                            tile: UnsafeMutablePointer<Float>) {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>()
        var c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>()
        var c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        var c40 = SIMD8<Float>(), c41 = SIMD8<Float>()
        var c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
        var ap = a
        @inline(__always) func step(_ bp: UnsafePointer<Float>) {
            let b0 = load8(bp), b1 = load8(bp + 8)
            var x = SIMD8<Float>(repeating: ap[0])
            c00 = madd(c00, x, b0); c01 = madd(c01, x, b1)
            x = SIMD8<Float>(repeating: ap[aRowStride])
            c10 = madd(c10, x, b0); c11 = madd(c11, x, b1)
            x = SIMD8<Float>(repeating: ap[2 &* aRowStride])
            c20 = madd(c20, x, b0); c21 = madd(c21, x, b1)
            x = SIMD8<Float>(repeating: ap[3 &* aRowStride])
            c30 = madd(c30, x, b0); c31 = madd(c31, x, b1)
            x = SIMD8<Float>(repeating: ap[4 &* aRowStride])
            c40 = madd(c40, x, b0); c41 = madd(c41, x, b1)
            x = SIMD8<Float>(repeating: ap[5 &* aRowStride])
            c50 = madd(c50, x, b0); c51 = madd(c51, x, b1)
            ap += aStep
        }
        if dense {
            // Two k-steps a turn: half the loop's bookkeeping beside its 24 multiply-adds.
            var bp = b, q = 0
            while q &+ 2 <= count { step(bp); step(bp + bStride); bp += 2 &* bStride; q &+= 2 }
            if q < count { step(bp) }
        } else {
            for q in 0..<count { step(b + Int(indices[q]) &* bStride) }
        }
        finishTile(c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51,
                   c: c, ldc: ldc, transposedC: transposedC, rows: rows, cols: cols,
                   alpha: alpha, beta: beta, bias: bias, activation: activation, tile: tile)
    }

    /// Stores a finished `mr × nr` tile of sums (row r in `cr0`, `cr1`): C[:rows, :cols] =
    /// alpha · acc + beta · C (C not read when beta is 0), then bias and activation when given;
    /// transposed when `transposedC`. Shared by `microKernel` and the wide tiles, so both round
    /// alike.
    @inline(__always)
    static func finishTile(_ c00: SIMD8<Float>, _ c01: SIMD8<Float>, _ c10: SIMD8<Float>, _ c11: SIMD8<Float>,
                           _ c20: SIMD8<Float>, _ c21: SIMD8<Float>, _ c30: SIMD8<Float>, _ c31: SIMD8<Float>,
                           _ c40: SIMD8<Float>, _ c41: SIMD8<Float>, _ c50: SIMD8<Float>, _ c51: SIMD8<Float>,
                           c: UnsafeMutablePointer<Float>, ldc: Int, transposedC: Bool, rows: Int, cols: Int,
                           alpha: Float, beta: Float, bias: UnsafePointer<Float>?, activation: Activation?,
                           tile: UnsafeMutablePointer<Float>) {
        var c00 = c00, c01 = c01, c10 = c10, c11 = c11, c20 = c20, c21 = c21
        var c30 = c30, c31 = c31, c40 = c40, c41 = c41, c50 = c50, c51 = c51
        if transposedC && rows == mr && cols == nr {
            // C is stored transposed: column j of the tile is a run of six values of C's row j.
            // Transposed in registers (two 8 × 8 transposes, rows 6 and 7 zero), then stored as
            // four values and two.
            if alpha != 1 {
                c00 *= alpha; c10 *= alpha; c20 *= alpha; c30 *= alpha; c40 *= alpha; c50 *= alpha
                c01 *= alpha; c11 *= alpha; c21 *= alpha; c31 *= alpha; c41 *= alpha; c51 *= alpha
            }
            let zero = SIMD8<Float>()
            let t = transpose8(c00, c10, c20, c30, c40, c50, zero, zero)
            let u = transpose8(c01, c11, c21, c31, c41, c51, zero, zero)
            @inline(__always) func store(_ v: SIMD8<Float>, _ j: Int) {
                let row = c + j &* ldc
                UnsafeMutableRawPointer(row).storeBytes(of: v.lowHalf, as: SIMD4<Float>.self)
                UnsafeMutableRawPointer(row + 4).storeBytes(of: v.highHalf.lowHalf, as: SIMD2<Float>.self)
            }
            @inline(__always) func add(_ v: SIMD8<Float>, _ j: Int) {
                let row = c + j &* ldc
                let lo = madd(v.lowHalf, beta, UnsafeRawPointer(row).loadUnaligned(as: SIMD4<Float>.self))
                let hi = madd(v.highHalf.lowHalf, beta, UnsafeRawPointer(row + 4).loadUnaligned(as: SIMD2<Float>.self))
                UnsafeMutableRawPointer(row).storeBytes(of: lo, as: SIMD4<Float>.self)
                UnsafeMutableRawPointer(row + 4).storeBytes(of: hi, as: SIMD2<Float>.self)
            }
            if beta == 0 {
                store(t.0, 0); store(t.1, 1); store(t.2, 2); store(t.3, 3); store(t.4, 4); store(t.5, 5); store(t.6, 6); store(t.7, 7)
                store(u.0, 8); store(u.1, 9); store(u.2, 10); store(u.3, 11); store(u.4, 12); store(u.5, 13); store(u.6, 14); store(u.7, 15)
            } else {
                add(t.0, 0); add(t.1, 1); add(t.2, 2); add(t.3, 3); add(t.4, 4); add(t.5, 5); add(t.6, 6); add(t.7, 7)
                add(u.0, 8); add(u.1, 9); add(u.2, 10); add(u.3, 11); add(u.4, 12); add(u.5, 13); add(u.6, 14); add(u.7, 15)
            }
        } else if transposedC || cols < nr {
            // An edge tile: spill the registers, then finish the valid part value by value.
            store8(c00, tile); store8(c01, tile + 8)
            store8(c10, tile + 16); store8(c11, tile + 24)
            store8(c20, tile + 32); store8(c21, tile + 40)
            store8(c30, tile + 48); store8(c31, tile + 56)
            store8(c40, tile + 64); store8(c41, tile + 72)
            store8(c50, tile + 80); store8(c51, tile + 88)
            finishEdge(tile, c: c, ldc: ldc, transposedC: transposedC, rows: rows, cols: cols,
                       alpha: alpha, beta: beta, bias: bias, activation: activation)
        } else {
            // Whole rows of 16: finish them in registers.
            @inline(__always) func finish(_ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ row: UnsafeMutablePointer<Float>) {
                var x0 = v0, x1 = v1
                if alpha != 1 { x0 *= alpha; x1 *= alpha }
                if beta != 0 { x0 = madd(x0, beta, load8(row)); x1 = madd(x1, beta, load8(row + 8)) }
                store8(x0, row); store8(x1, row + 8)
            }
            finish(c00, c01, c)
            if rows > 1 { finish(c10, c11, c + ldc) }
            if rows > 2 { finish(c20, c21, c + 2 * ldc) }
            if rows > 3 { finish(c30, c31, c + 3 * ldc) }
            if rows > 4 { finish(c40, c41, c + 4 * ldc) }
            if rows > 5 { finish(c50, c51, c + 5 * ldc) }
            if bias != nil || activation != nil {
                for r in 0..<rows { epilogue16(c + r * ldc, bias: bias, activation: activation) }
            }
        }
    }

    /// One `mr × 8` tile, for a last panel of at most 8 columns (784-40 and 784-50 networks):
    /// the same sums as `microKernel`, in the same order, with half the multiply-adds.
    @inline(__always)
    static func microKernel8(count: Int, dense: Bool,
                             a: UnsafePointer<Float>, aRowStride: Int, aStep: Int, indices: UnsafePointer<Int32>,
                             b: UnsafePointer<Float>, bStride: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int, transposedC: Bool, rows: Int, cols: Int,
                             alpha: Float, beta: Float, bias: UnsafePointer<Float>?, activation: Activation?,
                             tile: UnsafeMutablePointer<Float>) {
        var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), c2 = SIMD8<Float>()
        var c3 = SIMD8<Float>(), c4 = SIMD8<Float>(), c5 = SIMD8<Float>()
        var ap = a
        @inline(__always) func step(_ bp: UnsafePointer<Float>) {
            let b0 = load8(bp)
            c0 = madd(c0, SIMD8<Float>(repeating: ap[0]), b0)
            c1 = madd(c1, SIMD8<Float>(repeating: ap[aRowStride]), b0)
            c2 = madd(c2, SIMD8<Float>(repeating: ap[2 &* aRowStride]), b0)
            c3 = madd(c3, SIMD8<Float>(repeating: ap[3 &* aRowStride]), b0)
            c4 = madd(c4, SIMD8<Float>(repeating: ap[4 &* aRowStride]), b0)
            c5 = madd(c5, SIMD8<Float>(repeating: ap[5 &* aRowStride]), b0)
            ap += aStep
        }
        if dense {
            var bp = b, q = 0
            while q &+ 2 <= count { step(bp); step(bp + bStride); bp += 2 &* bStride; q &+= 2 }
            if q < count { step(bp) }
        } else {
            for q in 0..<count { step(b + Int(indices[q]) &* bStride) }
        }
        store8(c0, tile); store8(c1, tile + 16); store8(c2, tile + 32)
        store8(c3, tile + 48); store8(c4, tile + 64); store8(c5, tile + 80)
        finishEdge(tile, c: c, ldc: ldc, transposedC: transposedC, rows: rows, cols: cols,
                   alpha: alpha, beta: beta, bias: bias, activation: activation)
    }

    /// Finishes an edge tile spilled to `tile` (row r at `tile + r·nr`): C = alpha · tile +
    /// beta · C, then bias and activation, for its valid `rows × cols` part (transposed: value
    /// (r, j) at `c + j·ldc + r`, and no epilogue).
    @inline(never)
    static func finishEdge(_ tile: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                           transposedC: Bool, rows: Int, cols: Int, alpha: Float, beta: Float,
                           bias: UnsafePointer<Float>?, activation: Activation?) {
        if transposedC {
            for j in 0..<cols {
                let row = c + j * ldc
                for r in 0..<rows {
                    var v = alpha * tile[r * nr + j]
                    if beta != 0 { v = madd(v, beta, row[r]) }
                    row[r] = v
                }
            }
            return
        }
        for r in 0..<rows {
            let row = c + r * ldc, t = tile + r * nr
            var j = 0
            if cols >= 8 {
                // The first eight values as one vector (the same operations as value by value).
                var v = load8(t)
                if alpha != 1 { v *= alpha }
                if beta != 0 { v = madd(v, beta, load8(row)) }
                if let bias { v += load8(bias) }
                store8(v, row)
                j = 8
            }
            while j < cols {
                var v = alpha * t[j]
                if beta != 0 { v = madd(v, beta, row[j]) }
                if let bias { v += bias[j] }
                row[j] = v
                j += 1
            }
            if let activation { activation.forward(row, row, cols) }
        }
    }

    /// Adds the bias to 16 finished values of a row of C and applies the activation, eight
    /// values at a time (`Activation.Formula`, the same formula as the plain loops).
    @inline(never)
    static func epilogue16(_ row: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, activation: Activation?) {
        var x0 = load8(row), x1 = load8(row + 8)
        if let bias { x0 += load8(bias); x1 += load8(bias + 8) }
        if let activation { x0 = activation(x0); x1 = activation(x1) }
        store8(x0, row); store8(x1, row + 8)
    }
}
