import DigitsData
import FuzzSupport

// IDX images and labels files, raw or gzip-compressed (detected from the content), as
// `digits train --data DIR` reads them; and zlib/gzip inflation on its own.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let data = FuzzSupport.data(start, count)
    let file = FuzzSupport.scratchFile(data)
    do {
        let images = try IDX.readImages(at: file)
        FuzzSupport.report("images: \(images.count) of \(images.rows)×\(images.columns)")
    } catch { FuzzSupport.report("images: \(error)") }
    do {
        let labels = try IDX.readLabels(at: file)
        FuzzSupport.report("labels: \(labels.count)")
    } catch { FuzzSupport.report("labels: \(error)") }
    do {
        let inflated = try Gzip.decompress(data, file: "input")
        FuzzSupport.report("inflated: \(inflated.count) bytes")
    } catch { FuzzSupport.report("inflate: \(error)") }
    return 0
}
