import CZlib
import Foundation

// MARK: - Gzip

/// Gzip (and zlib) decompression through the system zlib.
public enum Gzip {
    /// `true` when `data` starts with the gzip magic bytes `1f 8b`.
    public static func isCompressed(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// Decompresses gzip (or zlib) data, including several concatenated gzip members.
    ///
    /// Uses `inflateInit2` with `windowBits` 15 + 32, so zlib detects the header itself.
    /// The output is inflated into a buffer sized from the gzip trailer, so large files
    /// decompress without repeated copying.
    ///
    /// - Parameters:
    ///   - data: The compressed bytes.
    ///   - file: The file the bytes came from, used only in error messages.
    /// - Throws: ``DataError/badGzip(file:reason:)`` for corrupt, truncated or unsupported data.
    public static func decompress(_ data: Data, file: String) throws(DataError) -> Data {
        try decompress(data, file: file, limit: .max, prefixOnly: false)
    }

    /// Decompresses at most `limit` bytes: throws ``DataError/badGzip(file:reason:)`` as soon
    /// as the data would inflate to more, so a small file that inflates to gigabytes (a "gzip
    /// bomb") never takes more than `limit` bytes of memory.
    public static func decompress(_ data: Data, file: String, limit: Int) throws(DataError) -> Data {
        try decompress(data, file: file, limit: limit, prefixOnly: false)
    }

    /// The first `count` decompressed bytes (fewer if the data is shorter), inflating no more.
    public static func decompressedPrefix(_ data: Data, file: String, count: Int) throws(DataError) -> Data {
        try decompress(data, file: file, limit: count, prefixOnly: true)
    }

    private static func decompress(_ data: Data, file: String, limit: Int, prefixOnly: Bool) throws(DataError) -> Data {
        guard !data.isEmpty else { throw .badGzip(file: file, reason: "no data") }
        let limit = Swift.max(limit, 0)
        let capacity = limit == .max ? initialCapacity(for: data) : Swift.min(initialCapacity(for: data), limit + 1)
        var output = Data(count: Swift.max(capacity, 1))
        let result: Result<Int, DataError> = data.withUnsafeBytes { input in
            inflateAll(input, into: &output, file: file, limit: limit, prefixOnly: prefixOnly)
        }
        let produced = try result.get()
        if produced > limit && !prefixOnly {
            throw .badGzip(file: file, reason: "decompresses to more than \(limit) bytes, the most this file may hold")
        }
        output.count = Swift.min(produced, limit)
        return output
    }

    // MARK: - Inflating

    /// A guess at the decompressed size: the gzip trailer's ISIZE (size mod 2³²) when
    /// plausible, else a few times the input.
    private static func initialCapacity(for data: Data) -> Int {
        let minimum = 4096
        let ratioLimit = 1032  // deflate never compresses better than about 1032:1
        var guess = data.count.multipliedReportingOverflow(by: 4).overflow ? Int.max / 2 : data.count * 4
        if isCompressed(data), data.count >= 18 {
            let end = data.endIndex
            let isize = Int(data[end - 4]) | Int(data[end - 3]) << 8 | Int(data[end - 2]) << 16 | Int(data[end - 1]) << 24
            let (limit, overflow) = data.count.multipliedReportingOverflow(by: ratioLimit)
            if isize > 0, overflow || isize <= limit { guess = isize }
        }
        return Swift.max(guess, minimum)
    }

    /// Inflates every member of `input` into `output` (growing it as needed) and
    /// returns the number of bytes produced.
    private static func inflateAll(
        _ input: UnsafeRawBufferPointer, into output: inout Data, file: String, limit: Int, prefixOnly: Bool
    ) -> Result<Int, DataError> {
        guard let inputBase = input.bindMemory(to: Bytef.self).baseAddress else {
            return .failure(.badGzip(file: file, reason: "no data"))
        }
        var stream = z_stream()
        let streamSize = Int32(MemoryLayout<z_stream>.size)
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), streamSize) == Z_OK else {
            return .failure(.badGzip(file: file, reason: "zlib could not start: \(message(of: stream))"))
        }
        defer { inflateEnd(&stream) }

        let chunkLimit = Int(UInt32.max)
        var consumed = 0
        var produced = 0
        stream.next_in = UnsafeMutablePointer(mutating: inputBase)
        stream.avail_in = UInt32(Swift.min(input.count, chunkLimit))

        while true {
            // Past the limit: stop (one byte over is enough to know).
            if produced > limit {
                if prefixOnly { return .success(produced) }
                return .failure(.badGzip(file: file, reason: "decompresses to more than \(limit) bytes, the most this file may hold"))
            }
            // Room to write into: grow the buffer (doubling, up to one byte past the limit) when it is full.
            if produced == output.count {
                let (doubled, overflow) = output.count.multipliedReportingOverflow(by: 2)
                guard !overflow else {
                    return .failure(.badGzip(file: file, reason: "decompressed data too large"))
                }
                output.count = limit == .max ? doubled : Swift.min(doubled, limit + 1)
            }
            var code: Int32 = Z_OK
            var inputUsed = 0
            output.withUnsafeMutableBytes { buffer in
                guard let base = buffer.bindMemory(to: Bytef.self).baseAddress else { return }
                let room = Swift.min(buffer.count - produced, chunkLimit)
                let before = stream.next_in
                stream.next_out = base + produced
                stream.avail_out = UInt32(room)
                code = inflate(&stream, Z_NO_FLUSH)
                produced += room - Int(stream.avail_out)
                if let before, let after = stream.next_in { inputUsed = after - before }
            }
            consumed += inputUsed

            switch code {
            case Z_OK:
                break
            case Z_STREAM_END:
                let rest = UnsafeRawBufferPointer(rebasing: input[consumed...])
                if rest.isEmpty || rest.allSatisfy({ $0 == 0 }) {
                    return .success(produced)  // done (gzip(1) also ignores trailing zero padding)
                }
                guard rest.count >= 2, rest[0] == 0x1F, rest[1] == 0x8B else {
                    return .failure(.badGzip(file: file, reason: "\(rest.count) bytes of trailing garbage after the compressed data"))
                }
                guard inflateReset(&stream) == Z_OK else {
                    return .failure(.badGzip(file: file, reason: "zlib could not restart: \(message(of: stream))"))
                }
            case Z_BUF_ERROR where stream.avail_in == 0 && consumed >= input.count:
                return .failure(.badGzip(file: file, reason: "unexpected end of data (file truncated?)"))
            case Z_BUF_ERROR:
                break  // no progress possible this round; more room or input follows
            case Z_NEED_DICT:
                return .failure(.badGzip(file: file, reason: "stream needs a preset dictionary"))
            case Z_MEM_ERROR:
                return .failure(.badGzip(file: file, reason: "out of memory"))
            default:
                return .failure(.badGzip(file: file, reason: message(of: stream)))
            }

            // Refill the input window (zlib counts in UInt32, so feed > 4 GiB in chunks).
            if stream.avail_in == 0 && consumed < input.count {
                stream.next_in = UnsafeMutablePointer(mutating: inputBase + consumed)
                stream.avail_in = UInt32(Swift.min(input.count - consumed, chunkLimit))
            } else if code == Z_STREAM_END {
                stream.next_in = UnsafeMutablePointer(mutating: inputBase + consumed)
                stream.avail_in = UInt32(Swift.min(input.count - consumed, chunkLimit))
            }
        }
    }

    /// zlib's own message for the last error, if it gave one.
    private static func message(of stream: z_stream) -> String {
        guard let text = stream.msg else { return "corrupt compressed data" }
        return String(cString: text)
    }
}
