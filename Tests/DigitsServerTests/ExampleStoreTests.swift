import DigitsData
import Foundation
import Testing

@testable import DigitsServer

@Suite("The examples store")
struct ExampleStoreTests {
    static func digit(_ value: UInt8) -> [UInt8] { [UInt8](repeating: value, count: 784) }

    @Test("Appended examples survive a reopening, as an IDX pair and a journal")
    func appendAndReopen() throws {
        let directory = Support.temporaryDirectory()
        let store = try ExampleStore(directory: directory)
        #expect(try store.append(pixels: Self.digit(10), label: 3) == 0)
        #expect(try store.append(pixels: Self.digit(20), label: 9) == 1)
        let again = try ExampleStore(directory: directory)
        #expect(again.count == 2)
        #expect(again.all.labels == [3, 9])
        let set = try IDX.loadPair(images: again.imagesURL, labels: again.labelsURL)
        #expect(set.labels == [3, 9])
        #expect(set.pixels == Self.digit(10) + Self.digit(20))
        // No temporary files left behind.
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(files == ["images-idx3-ubyte", "journal.bin", "labels-idx1-ubyte"])
    }

    @Test("A crash during a journal write (a torn record) loses only that unacknowledged example")
    func tornJournal() throws {
        let directory = Support.temporaryDirectory()
        let store = try ExampleStore(directory: directory)
        try store.append(pixels: Self.digit(10), label: 3)
        let handle = try FileHandle(forWritingTo: store.journalURL)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([4] + [UInt8](repeating: 7, count: 100)))   // half a record
        try handle.close()
        let again = try ExampleStore(directory: directory)
        #expect(again.all.labels == [3])
        try again.append(pixels: Self.digit(30), label: 5)
        let third = try ExampleStore(directory: directory)
        #expect(third.all.labels == [3, 5])
        #expect(third.all.pixels == Self.digit(10) + Self.digit(30))
    }

    @Test("A crash between the two IDX renames (or a lost IDX pair) is repaired from the journal")
    func idxRebuilt() throws {
        let directory = Support.temporaryDirectory()
        let store = try ExampleStore(directory: directory)
        try store.append(pixels: Self.digit(10), label: 1)
        try store.append(pixels: Self.digit(20), label: 2)
        try FileManager.default.removeItem(at: store.labelsURL)
        try Data([0, 0, 8, 3]).write(to: store.imagesURL)   // a damaged images file
        let again = try ExampleStore(directory: directory)
        let set = try IDX.loadPair(images: again.imagesURL, labels: again.labelsURL)
        #expect(set.labels == [1, 2])
    }

    @Test("Bad examples are refused before anything is written")
    func refusals() throws {
        let store = try ExampleStore(directory: Support.temporaryDirectory())
        #expect(throws: AppStoreError.self) { try store.append(pixels: [1, 2, 3], label: 1) }
        #expect(throws: AppStoreError.self) { try store.append(pixels: Self.digit(1), label: 10) }
        #expect(throws: AppStoreError.self) { try store.append(pixels: Self.digit(1), label: -1) }
        #expect(store.count == 0)
        #expect((try? Data(contentsOf: store.journalURL))?.isEmpty ?? true)
    }
}
