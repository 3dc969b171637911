// The AVX-512 loops of a one-channel, stride-1 convolution (DigitsCore's `Conv2D` direct forward
// and direct weight gradient), in Swift, for x86-64-v4. Like WideTiles.swift, it imports only the
// standard library; nothing in it runs unless DigitsAVX512 has found AVX-512 on the processor.

#if DIGITS_AVX512_KERNELS

@inline(__always) private func load(_ p: UnsafePointer<Float>) -> V16 {
    UnsafeRawPointer(p).loadUnaligned(as: V16.self)
}

@inline(__always) private func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) private func store(_ v: V16, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self)
}

@inline(__always) private func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

// MARK: - Forward: the products over a padded image's flat positions

/// The contract of DigitsCore's `OneChannelProductsKernel` (the same parameters in the same
/// order): out[o·positions + t] = Σ over q = ky·k + kx, in order, of w[o·k·k + q] ·
/// image[t + ky·rowStride + kx], each the chain acc = fma(w, image, acc) from zero.
///
/// 32 positions (two zmm) of eight channels at a time, sixteen accumulators; then four
/// channels, then one; the last 16 positions, when `positions` is an odd multiple of 16, with
/// one zmm a channel. Must only be called on a processor with AVX-512 (x86-64-v4).
public func avx512OneChannelProducts(_ image: UnsafePointer<Float>, _ rowStride: Int, _ k: Int,
                                     _ w: UnsafePointer<Float>, _ channels: Int, _ positions: Int,
                                     _ out: UnsafeMutablePointer<Float>) {
    var t0 = 0
    while t0 + 32 <= positions {
        products(vectors: 2, image + t0, rowStride, k, w, channels, positions, out + t0)
        t0 += 32
    }
    if t0 < positions {
        products(vectors: 1, image + t0, rowStride, k, w, channels, positions, out + t0)
    }
}

/// 16 · `vectors` positions (1 or 2, a constant where it is inlined) of every channel.
@inline(__always)
private func products(vectors V: Int, _ s: UnsafePointer<Float>, _ rowStride: Int, _ k: Int,
                      _ w: UnsafePointer<Float>, _ channels: Int, _ positions: Int,
                      _ out: UnsafeMutablePointer<Float>) {
    let kk = k * k
    var o = 0
    while o + 8 <= channels {
        group(channels: 8, vectors: V, s, rowStride, k, w + o * kk, positions, out + o * positions)
        o += 8
    }
    while o + 4 <= channels {
        group(channels: 4, vectors: V, s, rowStride, k, w + o * kk, positions, out + o * positions)
        o += 4
    }
    while o < channels {
        let w0 = w + o * kk
        var a0 = V16(), a1 = V16()
        var q = 0, row = s
        for _ in 0..<k {
            for kx in 0..<k {
                let at = row + kx
                let c = V16(repeating: w0[q])
                a0 = a0.addingProduct(c, load(at))
                if V > 1 { a1 = a1.addingProduct(c, load(at + 16)) }
                q &+= 1
            }
            row += rowStride
        }
        let z = out + o * positions
        store(a0, z); if V > 1 { store(a1, z + 16) }
        o += 1
    }
}

/// Four or eight channels (`C`, a constant where it is inlined): accumulators a<channel><vector>.
/// (Index arithmetic wraps: the products of a real layer are far from overflowing, and the checks
/// cost a third of the loop.)
@inline(__always)
private func group(channels C: Int, vectors V: Int, _ s: UnsafePointer<Float>, _ rowStride: Int, _ k: Int,
                   _ w: UnsafePointer<Float>, _ positions: Int, _ z: UnsafeMutablePointer<Float>) {
    let kk = k &* k
    let w0 = w, w1 = w0 + kk, w2 = w1 + kk, w3 = w2 + kk, w4 = w3 + kk, w5 = w4 + kk, w6 = w5 + kk, w7 = w6 + kk
    var a00 = V16(), a01 = V16(), a10 = V16(), a11 = V16(), a20 = V16(), a21 = V16(), a30 = V16(), a31 = V16()
    var a40 = V16(), a41 = V16(), a50 = V16(), a51 = V16(), a60 = V16(), a61 = V16(), a70 = V16(), a71 = V16()
    var q = 0, row = s
    for _ in 0..<k {
        for kx in 0..<k {
            let at = row + kx
            let x0 = load(at), x1 = V > 1 ? load(at + 16) : V16()
            // Channel j's weight times both vectors: acc = fma(w, x, acc).
            @inline(__always) func step(_ wj: UnsafePointer<Float>, _ acc0: inout V16, _ acc1: inout V16) {
                let c = V16(repeating: wj[q])
                acc0 = acc0.addingProduct(c, x0)
                if V > 1 { acc1 = acc1.addingProduct(c, x1) }
            }
            step(w0, &a00, &a01); step(w1, &a10, &a11); step(w2, &a20, &a21); step(w3, &a30, &a31)
            if C > 4 { step(w4, &a40, &a41); step(w5, &a50, &a51); step(w6, &a60, &a61); step(w7, &a70, &a71) }
            q &+= 1
        }
        row += rowStride
    }
    @inline(__always) func put(_ channel: Int, _ v0: V16, _ v1: V16) {
        let at = z + channel &* positions
        store(v0, at); if V > 1 { store(v1, at + 16) }
    }
    put(0, a00, a01); put(1, a10, a11); put(2, a20, a21); put(3, a30, a31)
    if C > 4 { put(4, a40, a41); put(5, a50, a51); put(6, a60, a61); put(7, a70, a71) }
}

// MARK: - Weight gradient: lane-wise sums

/// The contract of DigitsCore's `OneChannelGradientKernel` (the same parameters in the same
/// order). Each zmm holds two channels' 8-lane sums side by side (lanes 0-7 the pair's first
/// channel, 8-15 its second), so every lane runs the same chain of fused multiply-adds as the
/// core's 8-lane loop; the image's eight values are read once into both halves. Two pairs and
/// five kernel rows: ten accumulators, twenty channels' rows of sums. Must only be called on a processor with AVX-512.
public func avx512OneChannelGradientSums(_ images: UnsafePointer<Float>, _ imageStride: Int, _ rowStride: Int,
                                         _ dzA: UnsafePointer<Float>, _ dzB: UnsafePointer<Float>,
                                         _ dzC: UnsafePointer<Float>, _ dzD: UnsafePointer<Float>,
                                         _ pairs: Int, _ count: Int, _ sampleStride: Int, _ rows: Int,
                                         _ dzRowStride: Int, _ vectorW: Int, _ tail: Int, _ height: Int,
                                         _ sums: UnsafeMutablePointer<Float>) {
    let g = Gradient(images: images, imageStride: imageStride, rowStride: rowStride, dzA: dzA, dzB: dzB,
                     dzC: dzC, dzD: dzD, count: count, sampleStride: sampleStride, rows: rows,
                     dzRowStride: dzRowStride, vectorW: vectorW, tail: tail, sums: sums)
    switch (pairs > 1, height) {
    case (true, 5): g.two5()
    case (true, 4): g.two4()
    case (true, 3): g.two3()
    case (true, 2): g.two2()
    case (true, _): g.two1()
    case (false, 5): g.one5()
    case (false, 4): g.one4()
    case (false, 3): g.one3()
    case (false, 2): g.one2()
    default: g.one1()
    }
}

/// The arguments of one call, and one function per (pairs, height), each with both constants,
/// so that exactly pairs·height accumulators stay in registers and no branch is in the loop.
private struct Gradient {
    let images: UnsafePointer<Float>, imageStride: Int, rowStride: Int
    let dzA: UnsafePointer<Float>, dzB: UnsafePointer<Float>, dzC: UnsafePointer<Float>, dzD: UnsafePointer<Float>
    let count: Int, sampleStride: Int, rows: Int, dzRowStride: Int, vectorW: Int, tail: Int
    let sums: UnsafeMutablePointer<Float>

    @inline(never) func two5() { run(pairs: 2, height: 5) }
    @inline(never) func two4() { run(pairs: 2, height: 4) }
    @inline(never) func two3() { run(pairs: 2, height: 3) }
    @inline(never) func two2() { run(pairs: 2, height: 2) }
    @inline(never) func two1() { run(pairs: 2, height: 1) }
    @inline(never) func one5() { run(pairs: 1, height: 5) }
    @inline(never) func one4() { run(pairs: 1, height: 4) }
    @inline(never) func one3() { run(pairs: 1, height: 3) }
    @inline(never) func one2() { run(pairs: 1, height: 2) }
    @inline(never) func one1() { run(pairs: 1, height: 1) }

    /// a<row> holds the first pair's sums of kernel row `row`, c<row> the second pair's.
    @inline(__always)
    func run(pairs P: Int, height H: Int) {
        var a0 = V16(), a1 = V16(), a2 = V16(), a3 = V16(), a4 = V16()
        var c0 = V16(), c1 = V16(), c2 = V16(), c3 = V16(), c4 = V16()
        let w1 = rowStride, w2 = 2 &* rowStride, w3 = 3 &* rowStride, w4 = 4 &* rowStride
        // The tail's vector: at tailAt, its dz read as 0 in the lanes of columns already done
        // (in both halves: each is a channel's eight columns).
        let tailAt = vectorW &+ tail &- 8
        let lane = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7)
        let done = lane .< SIMD16<Int32>(repeating: Int32(truncatingIfNeeded: 8 &- tail))
        for b in 0..<count {
            let image = images + b &* imageStride, d = b &* sampleStride
            for oy in 0..<rows {
                let row = image + oy &* rowStride, r = d &+ oy &* dzRowStride
                let ra = dzA + r, rb = dzB + r, rc = dzC + r, rd = dzD + r
                // Eight columns from x, the pairs' dz ga and gc: every kernel row's sums.
                @inline(__always) func columns(_ x: Int, _ ga: V16, _ gc: V16) {
                    let s = row + x
                    @inline(__always) func both(_ p: UnsafePointer<Float>) -> V16 {
                        let v = load8(p)
                        return V16(lowHalf: v, highHalf: v)
                    }
                    var v = both(s)
                    a0 = a0.addingProduct(ga, v); if P > 1 { c0 = c0.addingProduct(gc, v) }
                    if H > 1 { v = both(s + w1); a1 = a1.addingProduct(ga, v); if P > 1 { c1 = c1.addingProduct(gc, v) } }
                    if H > 2 { v = both(s + w2); a2 = a2.addingProduct(ga, v); if P > 1 { c2 = c2.addingProduct(gc, v) } }
                    if H > 3 { v = both(s + w3); a3 = a3.addingProduct(ga, v); if P > 1 { c3 = c3.addingProduct(gc, v) } }
                    if H > 4 { v = both(s + w4); a4 = a4.addingProduct(ga, v); if P > 1 { c4 = c4.addingProduct(gc, v) } }
                }
                @inline(__always) func dz(_ x: Int) -> (V16, V16) {
                    (V16(lowHalf: load8(ra + x), highHalf: load8(rb + x)),
                     P > 1 ? V16(lowHalf: load8(rc + x), highHalf: load8(rd + x)) : V16())
                }
                var x = 0
                while x < vectorW {
                    let (ga, gc) = dz(x)
                    columns(x, ga, gc)
                    x &+= 8
                }
                if tail > 0 {
                    let (ga, gc) = dz(tailAt)
                    columns(tailAt, ga.replacing(with: 0, where: done), gc.replacing(with: 0, where: done))
                }
            }
        }
        // sums[(channel · 5 + row) · 8 ..< +8]: the pair's first channel from the low half.
        @inline(__always) func put(_ i: Int, _ a: V16, _ c: V16) {
            guard i < H else { return }
            store8(a.lowHalf, sums + i * 8); store8(a.highHalf, sums + (5 + i) * 8)
            if P > 1 { store8(c.lowHalf, sums + (10 + i) * 8); store8(c.highHalf, sums + (15 + i) * 8) }
        }
        put(0, a0, c0); put(1, a1, c1); put(2, a2, c2); put(3, a3, c3); put(4, a4, c4)
    }
}

#endif
