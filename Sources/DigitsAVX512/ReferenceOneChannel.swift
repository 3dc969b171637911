import DigitsCore

/// The plain reference for `avx512OneChannelProducts`: each output the chain
/// acc = fma(w, image, acc) over the kernel's values in order, one value at a time, as
/// `OneChannelProductsKernel` specifies. Tests run `Conv2D`'s wide path with it on any machine
/// and check the AVX-512 kernel against the same bits.
public let referenceOneChannelProducts: OneChannelProductsKernel = {
    image, rowStride, k, w, channels, positions, out in
    for o in 0..<channels {
        for t in 0..<positions {
            var acc: Float = 0
            for ky in 0..<k {
                for kx in 0..<k {
                    acc = acc.addingProduct(w[o * k * k + ky * k + kx], image[t + ky * rowStride + kx])
                }
            }
            out[o * positions + t] = acc
        }
    }
}

/// The plain reference for `avx512OneChannelGradientSums`: lane j of each sum the chain
/// acc = fma(dz, image, acc) over samples, rows and the columns x < vectorW with x % 8 = j, in
/// order, then each row's tail term (its dz 0 in the lanes j < 8 − tail), as
/// `OneChannelGradientKernel` specifies.
public let referenceOneChannelGradientSums: OneChannelGradientKernel = {
    images, imageStride, rowStride, dzA, dzB, dzC, dzD, pairs, count, sampleStride, rows, dzRowStride, vectorW,
    tail, height, sums in
    let channels = [dzA, dzB, dzC, dzD].prefix(2 * pairs)
    for (c, dz) in channels.enumerated() {
        for i in 0..<height {
            for j in 0..<8 {
                var acc: Float = 0
                for b in 0..<count {
                    for oy in 0..<rows {
                        for x in stride(from: j, to: vectorW, by: 8) {
                            acc = acc.addingProduct(dz[b * sampleStride + oy * dzRowStride + x],
                                                    images[b * imageStride + (oy + i) * rowStride + x])
                        }
                        if tail > 0 {
                            let x = vectorW + tail - 8 + j
                            let g: Float = j < 8 - tail ? 0 : dz[b * sampleStride + oy * dzRowStride + x]
                            acc = acc.addingProduct(g, images[b * imageStride + (oy + i) * rowStride + x])
                        }
                    }
                }
                sums[(c * 5 + i) * 8 + j] = acc
            }
        }
    }
}
