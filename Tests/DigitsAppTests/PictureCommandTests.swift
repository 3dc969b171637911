import DigitsVision
import Foundation
import Testing

/// The picture commands, run as a person would: each picture is read back and its content
/// checked (size, pixels, labels), not only its existence.
@Suite("digits pictures", .serialized)
struct PictureCommandTests {
    /// A temporary directory with a small synthetic IDX set (class k: a bright bar at row 2 + 2k).
    static func dataDirectory() throws -> (dir: URL, testLabels: [Int], testPixels: [UInt8]) {
        let dir = try makeTemporaryDirectory()
        try writeSyntheticIDX(to: dir, train: 400, test: 60)
        let labels = try Data(contentsOf: dir.appendingPathComponent("t10k-labels-idx1-ubyte")).dropFirst(8).map { Int($0) }
        let pixels = Array(try Data(contentsOf: dir.appendingPathComponent("t10k-images-idx3-ubyte")).dropFirst(16))
        return (dir, labels, pixels)
    }

    @Test("show draws the digits in a grid, each above its label")
    func show() throws {
        let (dir, labels, _) = try Self.dataDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try DigitsCommand.run(["show", "--data", dir.path, "--set", "test", "--count", "12", "--columns", "4",
                                       "--out", "grid.png"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let image = try ImageIO.read(dir.appendingPathComponent("grid.png"))
        let layout = DigitGrid.layout(count: 12, columns: 4)
        #expect(image.width == layout.width && image.height == layout.height)
        #expect(layout.rows == 3)
        for i in 0..<12 {
            let tile = layout.tile(i), s = layout.scale
            // The bar of class k lies on row 2 + 2k of the digit: bright there, dark two rows off.
            let barRow = 2 + 2 * labels[i], offRow = barRow < 20 ? barRow + 3 : barRow - 3
            // (Averaged along the row: a few noise pixels are scattered over each digit.)
            func rowMean(_ row: Int) -> Int {
                (6..<22).reduce(0) { $0 + Int(image.rgba(x: tile.x + $1 * s, y: tile.y + row * s + s / 2).r) } / 16
            }
            #expect(rowMean(barRow) > 150, "tile \(i) (label \(labels[i])) should show its bar")
            #expect(rowMean(offRow) < 60, "tile \(i) off the bar should be dark")
            // The label strip under the tile holds dark text on white.
            let strip = layout.label(i)
            var ink = 0
            for y in strip.y..<strip.maxY { for x in strip.x..<strip.maxX where image.rgba(x: x, y: y).r < 100 { ink += 1 } }
            #expect(ink > 5, "tile \(i) has a label")
        }
    }

    @Test("export writes each digit as a PNG named with its index and label, pixel for pixel")
    func export() throws {
        let (dir, labels, pixels) = try Self.dataDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try DigitsCommand.run(["export", "--data", dir.path, "--set", "test", "--range", "3..<8", "--out", "out"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("out").path).sorted()
        #expect(names == (3..<8).map { String(format: "test-%05d-label-%d.png", $0, labels[$0]) })
        for i in 3..<8 {
            let image = try ImageIO.read(dir.appendingPathComponent("out").appendingPathComponent(String(format: "test-%05d-label-%d.png", i, labels[i])))
            #expect(image.width == 28 && image.height == 28)
            #expect(image.converted(toChannels: 1).pixels == Array(pixels[(i * 784)..<((i + 1) * 784)]))
        }
        let past = try DigitsCommand.run(["export", "--data", dir.path, "--range", "50...70", "--out", "out"], in: dir)
        #expect(past.status == 1)
        #expect(past.stderr.contains("past the end"))
    }

    @Test("train --plot draws loss and accuracy curves as PNG and SVG", arguments: ["png", "svg"])
    func plot(_ format: String) throws {
        let (dir, _, _) = try Self.dataDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try DigitsCommand.run(["train", "--data", dir.path, "--layers", "16", "--epochs", "3", "--no-progress",
                                       "--plot", "curves.\(format)"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let url = dir.appendingPathComponent("curves.\(format)")
        if format == "svg" {
            let svg = try String(contentsOf: url, encoding: .utf8)
            #expect(svg.hasPrefix("<svg") || svg.contains("<svg "))
            for text in ["Loss", "Accuracy", "train", "test", "epoch"] { #expect(svg.contains(text), "\(text) missing") }
            #expect(svg.components(separatedBy: "<polyline").count - 1 >= 4, "train and test lines in both panels")
        } else {
            let image = try ImageIO.read(url)
            let panels = TrainingCurvesSize.expected
            #expect(image.width == panels.width && image.height == panels.height)
            // Coloured (non-grey) pixels: the curves and the legend's swatches.
            var coloured = 0
            for y in 0..<image.height { for x in 0..<image.width {
                let p = image.rgba(x: x, y: y)
                if max(p.r, p.g, p.b) - min(p.r, p.g, p.b) > 60 { coloured += 1 }
            } }
            #expect(coloured > 500)
        }
    }

    @Test("eval --confusion draws and prints the confusion matrix; --misclassified writes every mistake")
    func confusionAndMistakes() throws {
        let (dir, labels, _) = try Self.dataDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // One epoch of a tiny network, so that it still makes a few mistakes.
        let t = try DigitsCommand.run(["train", "--data", dir.path, "--layers", "4", "--steps", "3", "--batch-size", "8",
                                       "--no-progress"], in: dir)
        #expect(t.status == 0, "\(t.stderr)")
        let r = try DigitsCommand.run(["eval", "--data", dir.path, "--confusion", "confusion.png", "--misclassified", "wrong"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let image = try ImageIO.read(dir.appendingPathComponent("confusion.png"))
        let layout = ConfusionMatrixPicture.layout(size: 10, title: true)
        #expect(image.width == layout.width && image.height == layout.height)

        // The table: ten rows of counts after the header, summing to the test set's size.
        let rows = r.lines.filter { $0.hasSuffix("%") && Int($0.split(separator: " ").first ?? "") != nil }
        #expect(rows.count == 10)
        var total = 0, diagonal = 0
        for (t, row) in rows.enumerated() {
            let counts = row.split(separator: " ").dropFirst().prefix(10).compactMap { Int($0) }
            #expect(counts.count == 10)
            total += counts.reduce(0, +)
            diagonal += counts[t]
            #expect(counts.reduce(0, +) == labels.filter { $0 == t }.count, "row \(t) counts the images labelled \(t)")
        }
        #expect(total == 60)

        let files = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("wrong").path)
        let wrong = files.filter { $0 != "contact-sheet.png" }
        #expect(wrong.count == 60 - diagonal)
        #expect(diagonal == 60 || files.contains("contact-sheet.png"), "all the mistakes on one sheet too")
        for name in wrong {
            let parts = name.replacingOccurrences(of: ".png", with: "").split(separator: "-")
            let index = Int(parts[0])!, truth = Int(parts[2])!, predicted = Int(parts[4])!
            #expect(labels[index] == truth)
            #expect(truth != predicted)
            // Enlarged (8× the digit) with a label under it, readable without zooming.
            let picture = try ImageIO.read(dir.appendingPathComponent("wrong").appendingPathComponent(name))
            let layout = DigitGrid.layout(count: 1, columns: 1, scale: 8)
            #expect(picture.width == layout.width && picture.height == layout.height)
            let strip = layout.label(0)
            var ink = 0
            for y in strip.y..<strip.maxY { for x in strip.x..<strip.maxX where picture.rgba(x: x, y: y).r < 100 { ink += 1 } }
            #expect(ink > 20, "\(name) has a label")
        }
        if diagonal < 60 {
            let sheet = try ImageIO.read(dir.appendingPathComponent("wrong/contact-sheet.png"))
            let layout = DigitGrid.layout(count: 60 - diagonal, columns: 12, scale: 3, title: true)
            #expect(sheet.width == layout.width && sheet.height == layout.height)
        }
    }
}

/// The size of `train --plot`'s picture: two 640×420 panels side by side.
enum TrainingCurvesSize {
    static var expected: (width: Int, height: Int) {
        var a = LinePlot(title: "Loss", xLabel: "epoch", yLabel: "loss", width: 640, height: 420)
        a.add("train", values: [1, 2])
        let image = LinePlot.renderImage(panels: [a, a])
        return (image.width, image.height)
    }
}
