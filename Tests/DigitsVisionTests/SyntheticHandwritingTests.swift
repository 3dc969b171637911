import Testing
@testable import DigitsVision

// MARK: - Synthetic handwriting

@Suite("Synthetic handwriting")
struct SyntheticHandwritingTests {
    @Test("the same seed gives the same files; another seed does not")
    func determinism() {
        let a = SyntheticHandwriting.makeSet(count: 6, seed: 11)
        let b = SyntheticHandwriting.makeSet(count: 6, seed: 11)
        let c = SyntheticHandwriting.makeSet(count: 6, seed: 12)
        #expect(a.map(\.fileData) == b.map(\.fileData))
        #expect(a.map(\.fileData) != c.map(\.fileData))
        #expect(a.map(\.label) == [0, 1, 2, 3, 4, 5])
    }

    @Test("a set varies in size, polarity, colour layout and file format, and files decode to the image")
    func variety() throws {
        let set = SyntheticHandwriting.makeSet(count: 60, seed: 3)
        #expect(Set(set.map(\.style.darkOnLight)).count == 2)
        #expect(Set(set.map(\.style.colour)) == Set(SyntheticStyle.Colour.allCases))
        #expect(Set(set.map(\.fileExtension)) == ["png", "jpg"])
        #expect(set.contains { if case .jpeg(_, true) = $0.style.encoding { return true } else { return false } })
        #expect(set.contains { if case .png(16, _) = $0.style.encoding { return true } else { return false } })
        #expect(set.contains { $0.style.noise > 0 } && set.contains { $0.style.gradient > 0 })
        for sample in set {
            #expect((40...400).contains(sample.image.width) && (40...300).contains(sample.image.height))
            #expect(sample.style.digitHeight < Double(sample.image.height))
            #expect(try ImageIO.decode(sample.fileData, name: "sample") == sample.image)
        }
        let sizes = set.map { $0.image.width * $0.image.height }
        #expect((sizes.max() ?? 0) > 8 * (sizes.min() ?? 1))
    }

    @Test("files are written with index and label in the name")
    func write() throws {
        let folder = TemporaryFolder()
        let sample = SyntheticHandwriting.makeSet(count: 4, seed: 1)[3]
        let url = try sample.write(to: folder.url, index: 3)
        #expect(url.lastPathComponent == "0003-digit3.\(sample.fileExtension)")
        #expect(try ImageIO.read(url) == sample.image)
    }

    @Test("overrides force the style without changing the drawing")
    func overrides() {
        var a = SyntheticHandwriting(seed: 5)
        var b = SyntheticHandwriting(seed: 5)
        let x = a.make(digit: 8, overrides: .init(darkOnLight: true, colour: .grey, allowJPEG: false, clean: true, size: (100, 80)))
        let y = b.make(digit: 8, overrides: .init(darkOnLight: false, colour: .grey, allowJPEG: false, clean: true, size: (100, 80)))
        #expect(x.style.darkOnLight && !y.style.darkOnLight)
        #expect(x.image.width == 100 && x.image.height == 80 && x.style.noise == 0)
        #expect(x.style.digitHeight == y.style.digitHeight && x.style.rotation == y.style.rotation)
    }
}
