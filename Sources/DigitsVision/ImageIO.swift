import CImageIO
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - ImageIO

/// Reading PNG and JPEG files and writing PNG (and JPEG) files, through the system's libpng and
/// libjpeg by way of the `CImageIO` shim.
public enum ImageIO {
    /// Images with more pixels than this are refused from their header, before decoding.
    public static let maximumPixels = 50_000_000

    /// Files larger than this (1 GiB) are refused before reading.
    public static let maximumFileBytes = 1 << 30

    /// The container a decoded image came from.
    public enum Format: String, Sendable, Equatable {
        case png, jpeg
    }

    /// What the file itself said, beyond the decoded 8-bit pixels.
    public struct FileInfo: Sendable, Equatable {
        /// PNG or JPEG.
        public var format: Format
        /// The file's bit depth (PNG 1, 2, 4, 8, 16; JPEG 8).
        public var bitDepth: Int
        /// PNG colour type (0, 2, 3, 4, 6) or, for JPEG, the number of components.
        public var colorType: Int
        /// Adam7-interlaced PNG or progressive JPEG.
        public var interlacedOrProgressive: Bool
    }

    // MARK: - Reading

    /// Reads and decodes a PNG or JPEG file into 8-bit grey, grey+alpha, RGB or RGBA.
    public static func read(_ url: URL) throws(ImageError) -> Image {
        try readWithInfo(url).image
    }

    /// Reads and decodes a file, also reporting what the file said about itself.
    public static func readWithInfo(_ url: URL) throws(ImageError) -> (image: Image, info: FileInfo) {
        let name = url.isFileURL ? url.path : url.absoluteString
        let bytes = try readBytes(url, name: name)
        return try decodeWithInfo(bytes, name: name)
    }

    /// Decodes PNG or JPEG bytes; `name` is what errors call the source.
    public static func decode(_ bytes: [UInt8], name: String) throws(ImageError) -> Image {
        try decodeWithInfo(bytes, name: name).image
    }

    /// Decodes PNG or JPEG bytes, also reporting what the file said about itself.
    public static func decodeWithInfo(_ bytes: [UInt8], name: String) throws(ImageError) -> (image: Image, info: FileInfo) {
        if bytes.isEmpty { throw ImageError(file: name, kind: .empty) }
        var message = [CChar](repeating: 0, count: Int(CIMAGEIO_MESSAGE_CAPACITY))
        var decoded = cimageio_image()
        let status = bytes.withUnsafeBufferPointer { buffer in
            message.withUnsafeMutableBufferPointer { text in
                cimageio_decode(buffer.baseAddress, buffer.count, UInt64(maximumPixels),
                                &decoded, text.baseAddress, text.count)
            }
        }
        defer { cimageio_free(decoded.pixels) }
        guard status == CIMAGEIO_OK, let base = decoded.pixels else {
            throw ImageError(file: name, kind: kind(of: status), detail: string(from: message))
        }
        let width = Int(decoded.width), height = Int(decoded.height), channels = Int(decoded.channels)
        let pixels = [UInt8](UnsafeBufferPointer(start: base, count: width * height * channels))
        guard let image = Image(width: width, height: height, channels: channels, pixels: pixels) else {
            throw ImageError(file: name, kind: .unsupported, detail: "\(width) x \(height) pixels, \(channels) channels")
        }
        let info = FileInfo(
            format: decoded.format == UInt32(CIMAGEIO_FORMAT_JPEG) ? .jpeg : .png,
            bitDepth: Int(decoded.source_bit_depth),
            colorType: Int(decoded.source_color_type),
            interlacedOrProgressive: decoded.interlaced_or_progressive != 0
        )
        return (image, info)
    }

    // MARK: - Writing

    /// Writes `image` as an 8-bit PNG of its own colour type (grey, grey+alpha, RGB or RGBA),
    /// atomically: to a temporary file in the same folder, then renamed over `url`.
    public static func writePNG(_ image: Image, to url: URL) throws(ImageError) {
        let bytes: [UInt8]
        do { bytes = try pngData(image) } catch { throw ImageError(file: url.path, kind: .writeFailed, detail: error.detail) }
        try writeAtomically(bytes, to: url)
    }

    /// Writes `image` as a JPEG (alpha is composited over white), atomically.
    public static func writeJPEG(_ image: Image, to url: URL, quality: Int = 90, progressive: Bool = false) throws(ImageError) {
        let bytes: [UInt8]
        do { bytes = try jpegData(image, quality: quality, progressive: progressive) } catch {
            throw ImageError(file: url.path, kind: .writeFailed, detail: error.detail)
        }
        try writeAtomically(bytes, to: url)
    }

    /// Writes UTF-8 text (an SVG, a report) atomically.
    public static func writeText(_ text: String, to url: URL) throws(ImageError) {
        try writeAtomically(Array(text.utf8), to: url)
    }

    /// Writes bytes to a temporary file next to `url`, then renames it over `url`, so readers
    /// never see a half-written file. The temporary file is removed on every error path. A
    /// path that names a directory (`out/` or an existing folder) or something other than a
    /// regular file (a device, a socket, a symbolic link) is refused rather than replaced.
    public static func writeAtomically(_ bytes: [UInt8], to url: URL) throws(ImageError) {
        let path = url.path
        if url.hasDirectoryPath || path.hasSuffix("/") {
            throw ImageError(file: path, kind: .writeFailed, detail: "the path names a directory, not a file")
        }
        var status = stat()
        if lstat(path, &status) == 0 {
            let type = status.st_mode & S_IFMT
            if type == S_IFDIR { throw ImageError(file: path, kind: .writeFailed, detail: "it is a directory") }
            if type == S_IFLNK { throw ImageError(file: path, kind: .writeFailed, detail: "it is a symbolic link; not replacing it") }
            if type != S_IFREG {
                throw ImageError(file: path, kind: .writeFailed, detail: "it is not a regular file (a device or socket?); not replacing it")
            }
        }
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(
            ".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ImageError(file: path, kind: .writeFailed, detail: reason(writingIn: directory, errno: errno))
        }
        var failure: String?
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let written = write(fd, base + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                offset += written
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        if close(fd) != 0 && failure == nil { failure = String(cString: strerror(errno)) }
        if failure == nil && rename(temporary.path, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary.path)
            throw ImageError(file: path, kind: .writeFailed, detail: failure)
        }
    }

    // MARK: - Encoding

    /// PNG colour types, with PNG's own numbers.
    public enum PNGColorType: Int32, Sendable, CaseIterable {
        case grey = 0, rgb = 2, palette = 3, greyAlpha = 4, rgba = 6

        /// Samples per pixel.
        public var channels: Int {
            switch self {
            case .grey, .palette: return 1
            case .greyAlpha: return 2
            case .rgb: return 3
            case .rgba: return 4
            }
        }

        /// The bit depths PNG allows for this colour type.
        public var bitDepths: [Int] {
            switch self {
            case .grey: return [1, 2, 4, 8, 16]
            case .palette: return [1, 2, 4, 8]
            case .rgb, .greyAlpha, .rgba: return [8, 16]
            }
        }
    }

    /// `image` as 8-bit PNG bytes of its own colour type.
    public static func pngData(_ image: Image) throws(ImageError) -> [UInt8] {
        let type: PNGColorType = [.grey, .greyAlpha, .rgb, .rgba][image.channels - 1]
        return try encodePNG(width: image.width, height: image.height, colorType: type, bitDepth: 8,
                             samples8: image.pixels, samples16: [], palette: [], paletteAlpha: [], interlaced: false)
    }

    /// PNG bytes of any colour type and bit depth PNG allows, from one value per sample
    /// (`width * height * colorType.channels` values, each below `1 << bitDepth`; palette indices
    /// for `.palette`). `palette` holds RGB triples and `paletteAlpha` optional alpha per entry.
    public static func pngData(samples: [UInt16], width: Int, height: Int, colorType: PNGColorType, bitDepth: Int,
                               palette: [UInt8] = [], paletteAlpha: [UInt8] = [],
                               interlaced: Bool = false) throws(ImageError) -> [UInt8] {
        let limit = bitDepth >= 16 ? Int(UInt16.max) : (1 << max(0, bitDepth)) - 1
        if bitDepth <= 8, let bad = samples.firstIndex(where: { Int($0) > limit }) {
            throw ImageError(file: "PNG data", kind: .writeFailed, detail: "sample \(bad) is \(samples[bad]), above \(limit)")
        }
        return try encodePNG(width: width, height: height, colorType: colorType, bitDepth: bitDepth,
                             samples8: bitDepth <= 8 ? samples.map { UInt8(truncatingIfNeeded: $0) } : [],
                             samples16: bitDepth > 8 ? samples : [],
                             palette: palette, paletteAlpha: paletteAlpha, interlaced: interlaced)
    }

    /// JPEG bytes for `image` (grey stays grey; colour becomes RGB; alpha is composited over white).
    public static func jpegData(_ image: Image, quality: Int = 90, progressive: Bool = false) throws(ImageError) -> [UInt8] {
        let flat = image.compositedOver(level: 255)
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var message = [CChar](repeating: 0, count: Int(CIMAGEIO_MESSAGE_CAPACITY))
        let status = flat.pixels.withUnsafeBufferPointer { buffer in
            message.withUnsafeMutableBufferPointer { text in
                cimageio_jpeg_encode(buffer.baseAddress, UInt32(flat.width), UInt32(flat.height), UInt32(flat.channels),
                                     Int32(quality), progressive ? 1 : 0, &output, &size, text.baseAddress, text.count)
            }
        }
        defer { cimageio_free(output) }
        guard status == CIMAGEIO_OK, let output else {
            throw ImageError(file: "JPEG data", kind: .writeFailed, detail: string(from: message))
        }
        return [UInt8](UnsafeBufferPointer(start: output, count: size))
    }

    // MARK: - Private

    private static func encodePNG(width: Int, height: Int, colorType: PNGColorType, bitDepth: Int,
                                  samples8: [UInt8], samples16: [UInt16], palette: [UInt8], paletteAlpha: [UInt8],
                                  interlaced: Bool) throws(ImageError) -> [UInt8] {
        let expected = width * height * colorType.channels
        let given = bitDepth > 8 ? samples16.count : samples8.count
        guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max), given == expected,
              palette.count % 3 == 0
        else {
            throw ImageError(file: "PNG data", kind: .writeFailed,
                             detail: "\(given) samples for \(width) x \(height) pixels of \(colorType.channels) channels")
        }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var message = [CChar](repeating: 0, count: Int(CIMAGEIO_MESSAGE_CAPACITY))
        let status: Int32 = palette.withUnsafeBufferPointer { paletteBuffer in
            paletteAlpha.withUnsafeBufferPointer { alphaBuffer in
                message.withUnsafeMutableBufferPointer { text in
                    var spec = cimageio_png_spec(
                        width: UInt32(width), height: UInt32(height),
                        color_type: colorType.rawValue, bit_depth: Int32(bitDepth),
                        palette: paletteBuffer.baseAddress, palette_count: Int32(palette.count / 3),
                        palette_alpha: alphaBuffer.baseAddress, palette_alpha_count: Int32(paletteAlpha.count),
                        interlaced: interlaced ? 1 : 0, compression_level: -1)
                    if bitDepth > 8 {
                        return samples16.withUnsafeBytes { raw in
                            cimageio_png_encode(&spec, raw.baseAddress, &output, &size, text.baseAddress, text.count)
                        }
                    }
                    return samples8.withUnsafeBytes { raw in
                        cimageio_png_encode(&spec, raw.baseAddress, &output, &size, text.baseAddress, text.count)
                    }
                }
            }
        }
        defer { cimageio_free(output) }
        guard status == CIMAGEIO_OK, let output else {
            throw ImageError(file: "PNG data", kind: .writeFailed, detail: string(from: message))
        }
        return [UInt8](UnsafeBufferPointer(start: output, count: size))
    }

    private static func readBytes(_ url: URL, name: String) throws(ImageError) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ImageError(file: name, kind: .unreadable, detail: "no such file")
        }
        if isDirectory.boolValue { throw ImageError(file: name, kind: .unreadable, detail: "it is a folder") }
        if let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber,
           size.int64Value > Int64(maximumFileBytes) {
            throw ImageError(file: name, kind: .fileTooLarge, detail: "the file has \(size.int64Value / 1_048_576) MB")
        }
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            let readable = FileManager.default.isReadableFile(atPath: url.path)
            throw ImageError(file: name, kind: .unreadable, detail: readable ? "read error" : "permission denied")
        }
    }

    private static func reason(writingIn directory: URL, errno code: Int32) -> String {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) || !isDirectory.boolValue {
            return "the folder \(directory.path) does not exist"
        }
        if code == EACCES || code == EPERM { return "permission denied" }
        return String(cString: strerror(code))
    }

    private static func kind(of status: Int32) -> ImageError.Kind {
        switch status {
        case CIMAGEIO_EMPTY: return .empty
        case CIMAGEIO_NOT_AN_IMAGE: return .notAnImage
        case CIMAGEIO_TRUNCATED: return .truncated
        case CIMAGEIO_TOO_LARGE: return .tooLarge
        case CIMAGEIO_UNSUPPORTED: return .unsupported
        default: return .corrupt
        }
    }

    private static func string(from message: [CChar]) -> String {
        String(decoding: message.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
