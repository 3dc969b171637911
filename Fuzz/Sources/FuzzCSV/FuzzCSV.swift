import DigitsData
import FuzzSupport

// MNIST as CSV (Kaggle's layout, raw or gzip), as `digits train --train-csv FILE` reads it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let file = FuzzSupport.scratchFile(FuzzSupport.data(start, count))
    do {
        let set = try CSVDigits.read(at: file)
        FuzzSupport.report("\(set.count) images of \(set.rows)×\(set.columns), labels \(set.labelCounts)")
    } catch { FuzzSupport.report("\(error)") }
    return 0
}
