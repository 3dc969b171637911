// MARK: - LinePlot

/// A line chart of named series, with axes, numbered ticks, axis labels, a title and a legend;
/// rendered as a PNG-ready `Image` (`renderImage()`) or as SVG text (`renderSVG()`), both from
/// the same `layout`. Several plots can be put side by side (`renderImage(panels:)`).
///
/// ```swift
/// var plot = LinePlot(title: "Loss", xLabel: "epoch", yLabel: "loss")
/// plot.add("train", points: [(1, 0.9), (2, 0.5), (3, 0.4)])
/// plot.add("test", points: [(1, 0.8), (2, 0.6), (3, 0.55)], dashed: true)
/// try ImageIO.writePNG(plot.renderImage(), to: url)
/// ```
public struct LinePlot: Sendable {
    /// One named line.
    public struct Series: Sendable {
        /// Shown in the legend.
        public var name: String
        /// Points in data coordinates; non-finite values break the line.
        public var points: [SIMD2<Double>]
        /// `nil` picks the next colour of `Color.series`.
        public var color: Color?
        /// Dashed instead of solid.
        public var dashed: Bool

        /// A series from points in data coordinates.
        public init(name: String, points: [SIMD2<Double>], color: Color? = nil, dashed: Bool = false) {
            self.name = name
            self.points = points
            self.color = color
            self.dashed = dashed
        }
    }

    /// Shown above the plot.
    public var title: String
    /// Shown under the x axis.
    public var xLabel: String
    /// Shown, running upwards, left of the y axis.
    public var yLabel: String
    /// The lines, drawn in order.
    public var series: [Series]
    /// Picture size in pixels.
    public var width: Int
    /// Picture height in pixels.
    public var height: Int
    /// Fixed axis ranges; `nil` fits the data (widened to whole ticks).
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?

    /// An empty plot; add series with `add`. Sizes below 200×150 are raised.
    public init(title: String, xLabel: String, yLabel: String, series: [Series] = [],
                width: Int = 800, height: Int = 500,
                xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.width = max(200, width)
        self.height = max(150, height)
        self.xRange = xRange
        self.yRange = yRange
    }

    /// Adds a series from (x, y) pairs.
    public mutating func add(_ name: String, points: [(Double, Double)], color: Color? = nil, dashed: Bool = false) {
        series.append(Series(name: name, points: points.map { SIMD2($0.0, $0.1) }, color: color, dashed: dashed))
    }

    /// Adds a series whose x values are 1, 2, 3, … (epochs).
    public mutating func add(_ name: String, values: [Double], color: Color? = nil, dashed: Bool = false) {
        add(name, points: values.enumerated().map { (Double($0.offset + 1), $0.element) }, color: color, dashed: dashed)
    }

    /// The colour series `index` is drawn in.
    public func color(ofSeries index: Int) -> Color {
        series[index].color ?? Color.series[index % Color.series.count]
    }

    // MARK: - Layout

    /// One legend line: the line sample and the name's text box.
    public struct LegendEntry: Sendable, Equatable {
        /// The short line in the series' colour.
        public var swatch: PixelRect
        /// The series name.
        public var text: PixelRect
    }

    /// Where everything goes, in pixels.
    public struct Layout: Sendable {
        /// Size of the picture.
        public var width: Int
        public var height: Int
        /// The data area inside the axes.
        public var plotArea: PixelRect
        /// Tick positions and the axis ranges they span.
        public var xTicks: AxisTicks
        public var yTicks: AxisTicks
        /// The legend box (zero size when there are no series).
        public var legend: PixelRect
        /// One entry per series, top to bottom.
        public var legendEntries: [LegendEntry]
        /// The title's text box.
        public var title: PixelRect
        /// The x label's text box (below the axis).
        public var xLabel: PixelRect
        /// The y label's text box (vertical, left of the tick labels).
        public var yLabel: PixelRect

        /// Pixel position of the data point (`x`, `y`), clamped to the plot area.
        public func position(x: Double, y: Double) -> SIMD2<Double> {
            let xr = xTicks.range, yr = yTicks.range
            let fx = min(1, max(0, (x - xr.lowerBound) / (xr.upperBound - xr.lowerBound)))
            let fy = min(1, max(0, (y - yr.lowerBound) / (yr.upperBound - yr.lowerBound)))
            return SIMD2(Double(plotArea.x) + fx * Double(plotArea.width - 1),
                         Double(plotArea.maxY - 1) - fy * Double(plotArea.height - 1))
        }
    }

    /// Font scales: tick labels, axis labels and legend at `textScale`, the title at `titleScale`.
    static let textScale = 2
    static let titleScale = 3

    /// The layout for the current data and size.
    public var layout: Layout {
        let finite = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let xs = finite.map(\.x), ys = finite.map(\.y)
        let xTicks = xRange.map { AxisTicks(covering: $0.lowerBound, $0.upperBound, count: 6) }
            ?? AxisTicks(covering: xs.min() ?? 0, xs.max() ?? 1, count: 6)
        let yTicks = yRange.map { AxisTicks(covering: $0.lowerBound, $0.upperBound, count: 5) }
            ?? AxisTicks(covering: ys.min() ?? 0, ys.max() ?? 1, count: 5)
        let s = LinePlot.textScale
        let textHeight = BitmapFont.capHeight * s
        let tickLabelWidth = yTicks.labels.map { BitmapFont.size(of: $0, scale: s).width }.max() ?? 0
        let titleHeight = title.isEmpty ? 0 : BitmapFont.capHeight * LinePlot.titleScale
        let top = 16 + (titleHeight > 0 ? titleHeight + 16 : 0)
        let left = 12 + (yLabel.isEmpty ? 0 : textHeight + 12) + tickLabelWidth + 10
        let bottom = 10 + textHeight + (xLabel.isEmpty ? 0 : 12 + textHeight) + 12
        let right = 24
        let plotArea = PixelRect(x: left, y: top, width: max(10, width - left - right), height: max(10, height - top - bottom))

        let titleSize = BitmapFont.size(of: title, scale: LinePlot.titleScale)
        let titleBox = PixelRect(x: plotArea.x + (plotArea.width - titleSize.width) / 2, y: 16,
                                 width: titleSize.width, height: titleSize.height)
        let xLabelSize = BitmapFont.size(of: xLabel, scale: s)
        let xLabelBox = PixelRect(x: plotArea.x + (plotArea.width - xLabelSize.width) / 2,
                                  y: plotArea.maxY + 10 + textHeight + 12, width: xLabelSize.width, height: xLabelSize.height)
        let yLabelSize = BitmapFont.size(of: yLabel, scale: s)
        let yLabelBox = PixelRect(x: 12, y: plotArea.y + (plotArea.height - yLabelSize.width) / 2,
                                  width: yLabelSize.height, height: yLabelSize.width)

        var result = Layout(width: width, height: height, plotArea: plotArea, xTicks: xTicks, yTicks: yTicks,
                            legend: PixelRect(x: 0, y: 0, width: 0, height: 0), legendEntries: [],
                            title: titleBox, xLabel: xLabelBox, yLabel: yLabelBox)
        guard !series.isEmpty else { return result }

        // Legend: in the corner of the plot area that covers the fewest data points.
        let rowHeight = textHeight + 10, swatchWidth = 28
        let nameWidth = series.map { BitmapFont.size(of: $0.name, scale: s).width }.max() ?? 0
        let legendWidth = 12 + swatchWidth + 10 + nameWidth + 12
        let legendHeight = 8 + series.count * rowHeight
        let inset = 10
        let corners = [
            (plotArea.maxX - inset - legendWidth, plotArea.y + inset),
            (plotArea.maxX - inset - legendWidth, plotArea.maxY - inset - legendHeight),
            (plotArea.x + inset, plotArea.y + inset),
            (plotArea.x + inset, plotArea.maxY - inset - legendHeight),
        ]
        let positions = finite.map { result.position(x: $0.x, y: $0.y) }
        var best = corners[0], fewest = Int.max
        for corner in corners {
            let box = PixelRect(x: corner.0, y: corner.1, width: legendWidth, height: legendHeight).insetBy(-8)
            let covered = positions.filter { box.contains(x: Int($0.x), y: Int($0.y)) }.count
            if covered < fewest {
                fewest = covered
                best = corner
            }
        }
        result.legend = PixelRect(x: best.0, y: best.1, width: legendWidth, height: legendHeight)
        result.legendEntries = series.indices.map { i in
            let rowTop = best.1 + 4 + i * rowHeight
            let size = BitmapFont.size(of: series[i].name, scale: s)
            return LegendEntry(
                swatch: PixelRect(x: best.0 + 12, y: rowTop + rowHeight / 2 - 2, width: swatchWidth, height: 4),
                text: PixelRect(x: best.0 + 12 + swatchWidth + 10, y: rowTop + (rowHeight - textHeight) / 2,
                                width: size.width, height: size.height))
        }
        return result
    }

    /// The polylines of series `index` in pixels, split where values are not finite.
    func pixelRuns(of index: Int, in layout: Layout) -> [[SIMD2<Double>]] {
        var runs: [[SIMD2<Double>]] = [[]]
        for p in series[index].points {
            if p.x.isFinite && p.y.isFinite {
                runs[runs.count - 1].append(layout.position(x: p.x, y: p.y))
            } else if !(runs.last?.isEmpty ?? true) {
                runs.append([])
            }
        }
        return runs.filter { !$0.isEmpty }
    }
}
