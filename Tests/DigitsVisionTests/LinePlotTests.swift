import Foundation
import Testing
@testable import DigitsVision
#if canImport(FoundationXML)
import FoundationXML
#endif

// MARK: - Line plots

@Suite("Line plots")
struct LinePlotTests {
    static func lossPlot() -> LinePlot {
        var plot = LinePlot(title: "Loss", xLabel: "epoch", yLabel: "loss", width: 640, height: 400)
        plot.add("train", values: [0.9, 0.5, 0.35, 0.3, 0.26, 0.24])
        plot.add("test", values: [0.7, 0.55, 0.5, 0.48, 0.47, 0.47], dashed: true)
        return plot
    }

    @Test("the picture has the curves, ticks, labels, title and legend where the layout says")
    func picture() {
        let plot = LinePlotTests.lossPlot()
        let image = plot.renderImage()
        let layout = plot.layout
        #expect(image.width == 640 && image.height == 400)

        // Each data point carries its series' colour, and so do the middles of solid segments.
        for (index, series) in plot.series.enumerated() {
            let colour = plot.color(ofSeries: index)
            func near(_ p: SIMD2<Double>) -> Bool {
                let box = PixelRect(x: Int(p.x.rounded()) - 1, y: Int(p.y.rounded()) - 1, width: 3, height: 3)
                return count(in: image, box) { abs(Int($0.r) - Int(colour.r)) + abs(Int($0.g) - Int(colour.g)) + abs(Int($0.b) - Int(colour.b)) < 40 } > 0
            }
            for point in series.points {
                #expect(near(layout.position(x: point.x, y: point.y)), "\(series.name) at \(point)")
            }
            if !series.dashed {
                for k in 0..<(series.points.count - 1) {
                    let a = layout.position(x: series.points[k].x, y: series.points[k].y)
                    let b = layout.position(x: series.points[k + 1].x, y: series.points[k + 1].y)
                    #expect(near((a + b) / 2))
                }
            }
        }
        // Legend: a line sample in each colour and the name as text.
        #expect(layout.legendEntries.count == 2)
        for (index, entry) in layout.legendEntries.enumerated() {
            let colour = plot.color(ofSeries: index)
            #expect(count(in: image, entry.swatch.insetBy(-2)) { $0 == colour } > 5)
            #expect(count(in: image, entry.text, where: isDark) > 20, "legend text \(index)")
            #expect(layout.legend.contains(x: entry.text.maxX - 1, y: entry.text.maxY - 1))
        }
        // Title and axis labels.
        #expect(count(in: image, layout.title, where: isDark) > 40)
        #expect(count(in: image, layout.xLabel, where: isDark) > 20)
        #expect(count(in: image, layout.yLabel, where: isDark) > 20)
        #expect(layout.yLabel.height > layout.yLabel.width, "the y label runs vertically")
        // Tick labels left of and below the plot area.
        let left = PixelRect(x: layout.yLabel.maxX + 2, y: layout.plotArea.y - 8, width: layout.plotArea.x - layout.yLabel.maxX - 10, height: layout.plotArea.height + 16)
        #expect(count(in: image, left, where: isDark) > 10 * layout.yTicks.values.count)
        let below = PixelRect(x: layout.plotArea.x - 10, y: layout.plotArea.maxY + 8, width: layout.plotArea.width + 20, height: 16)
        #expect(count(in: image, below, where: isDark) > 10 * layout.xTicks.values.count)
        // The legend avoids the data.
        let points = plot.series.flatMap(\.points).map { layout.position(x: $0.x, y: $0.y) }
        #expect(!points.contains { layout.legend.contains(x: Int($0.x), y: Int($0.y)) })
    }

    @Test("ticks are round numbers covering the data")
    func ticks() {
        let ticks = AxisTicks(covering: 0.03, 0.97, count: 5)
        #expect(ticks.step == 0.2)
        #expect(ticks.labels == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let epochs = AxisTicks(covering: 1, 30, count: 6)
        #expect(epochs.step == 5 && epochs.range == 0...30)
        #expect(epochs.labels.first == "0" && epochs.labels.last == "30")
        let flat = AxisTicks(covering: 2, 2)
        #expect(flat.range.lowerBound < 2 && flat.range.upperBound > 2)
    }

    @Test("the SVG is well-formed and holds every series, label and legend entry")
    func svg() throws {
        let plot = LinePlotTests.lossPlot()
        let svg = plot.renderSVG()
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.contains("width=\"640\" height=\"400\""))
        #expect(svg.components(separatedBy: "<polyline class=\"series\"").count - 1 == 2)
        #expect(svg.contains("data-name=\"train\"") && svg.contains("data-name=\"test\""))
        #expect(svg.contains("stroke-dasharray"))
        for text in [">Loss</text>", ">epoch</text>", ">loss</text>", ">train</text>", ">test</text>", ">0.2</text>"] {
            #expect(svg.contains(text), "\(text)")
        }
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
    }

    @Test("text is escaped in SVG")
    func escaping() {
        var plot = LinePlot(title: "a < b & \"c\"", xLabel: "x", yLabel: "y")
        plot.add("<series>", values: [1, 2])
        let svg = plot.renderSVG()
        #expect(svg.contains("a &lt; b &amp; &quot;c&quot;") && svg.contains("&lt;series&gt;"))
        #expect(XMLParser(data: Data(svg.utf8)).parse())
    }

    @Test("panels sit side by side, and non-finite values break a line")
    func panels() {
        var accuracy = LinePlot(title: "Accuracy", xLabel: "epoch", yLabel: "%", width: 500, height: 300)
        accuracy.add("test", values: [90, .nan, 95, 96])
        let image = LinePlot.renderImage(panels: [LinePlotTests.lossPlot(), accuracy])
        #expect(image.width == 1140 && image.height == 400)
        #expect(accuracy.pixelRuns(of: 0, in: accuracy.layout).map(\.count) == [1, 2])
        let svg = LinePlot.renderSVG(panels: [LinePlotTests.lossPlot(), accuracy])
        #expect(svg.contains("translate(640,0)"))
    }
}
