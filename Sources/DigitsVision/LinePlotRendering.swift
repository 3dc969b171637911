// MARK: - LinePlot rendering

extension LinePlot {
    /// The chart as an RGB image of `width`×`height`.
    public func renderImage() -> Image {
        var canvas = Canvas(width: width, height: height, background: .white)
        draw(on: &canvas, x: 0, y: 0)
        return canvas.image
    }

    /// Several charts side by side, left to right, as one image.
    public static func renderImage(panels: [LinePlot]) -> Image {
        let totalWidth = panels.reduce(0) { $0 + $1.width }
        let maxHeight = panels.map(\.height).max() ?? 1
        var canvas = Canvas(width: max(1, totalWidth), height: maxHeight, background: .white)
        var x = 0
        for panel in panels {
            panel.draw(on: &canvas, x: x, y: 0)
            x += panel.width
        }
        return canvas.image
    }

    /// Draws the chart with its top-left corner at (`x`, `y`) of `canvas`.
    func draw(on canvas: inout Canvas, x ox: Int, y oy: Int) {
        let layout = self.layout
        let s = LinePlot.textScale
        let area = layout.plotArea.offset(ox, oy)
        let textHeight = BitmapFont.capHeight * s
        let shift = SIMD2(Double(ox), Double(oy))

        // Grid and ticks.
        for value in layout.yTicks.values {
            let py = Int(layout.position(x: layout.xTicks.range.lowerBound, y: value).y.rounded()) + oy
            canvas.fill(PixelRect(x: area.x, y: py, width: area.width, height: 1), Color(232, 232, 232))
            canvas.fill(PixelRect(x: area.x - 6, y: py, width: 6, height: 1), .darkGrey)
            let label = layout.yTicks.label(value)
            let size = BitmapFont.size(of: label, scale: s)
            canvas.text(label, x: area.x - 10 - size.width, y: py - textHeight / 2, .darkGrey, scale: s)
        }
        for value in layout.xTicks.values {
            let px = Int(layout.position(x: value, y: layout.yTicks.range.lowerBound).x.rounded()) + ox
            canvas.fill(PixelRect(x: px, y: area.y, width: 1, height: area.height), Color(232, 232, 232))
            canvas.fill(PixelRect(x: px, y: area.maxY, width: 1, height: 6), .darkGrey)
            canvas.text(layout.xTicks.label(value), centreX: px, y: area.maxY + 10, .darkGrey, scale: s)
        }
        // Axes.
        canvas.fill(PixelRect(x: area.x - 1, y: area.y, width: 2, height: area.height + 1), .darkGrey)
        canvas.fill(PixelRect(x: area.x - 1, y: area.maxY - 1, width: area.width + 1, height: 2), .darkGrey)

        // Series.
        for index in series.indices {
            let color = self.color(ofSeries: index)
            for run in pixelRuns(of: index, in: layout) {
                let points = run.map { $0 + shift }
                canvas.polyline(points, color, lineWidth: 2.5, dash: series[index].dashed ? (on: 10, off: 6) : nil)
                if points.count <= 60 {
                    for p in points { canvas.disc(at: p, radius: 3.5, color) }
                }
            }
        }

        // Legend.
        if layout.legend.width > 0 {
            let box = layout.legend.offset(ox, oy)
            canvas.fill(box, .white)
            canvas.stroke(box, Color(190, 190, 190))
            for (index, entry) in layout.legendEntries.enumerated() {
                let swatch = entry.swatch.offset(ox, oy)
                let mid = Double(swatch.y) + Double(swatch.height) / 2
                canvas.polyline([SIMD2(Double(swatch.x), mid), SIMD2(Double(swatch.maxX), mid)], color(ofSeries: index),
                                lineWidth: 2.5, dash: series[index].dashed ? (on: 8, off: 4) : nil)
                let text = entry.text.offset(ox, oy)
                canvas.text(series[index].name, x: text.x, y: text.y, .black, scale: s)
            }
        }

        // Title and axis labels.
        if !title.isEmpty {
            let box = layout.title.offset(ox, oy)
            canvas.text(title, x: box.x, y: box.y, .black, scale: LinePlot.titleScale)
        }
        if !xLabel.isEmpty {
            let box = layout.xLabel.offset(ox, oy)
            canvas.text(xLabel, x: box.x, y: box.y, .black, scale: s)
        }
        if !yLabel.isEmpty {
            let box = layout.yLabel.offset(ox, oy)
            canvas.text(yLabel, x: box.x, y: box.y, .black, scale: s, vertical: true)
        }
    }

    // MARK: - SVG

    /// The chart as a standalone SVG document.
    public func renderSVG() -> String {
        LinePlot.renderSVG(panels: [self])
    }

    /// Several charts side by side as one SVG document.
    public static func renderSVG(panels: [LinePlot]) -> String {
        let totalWidth = panels.reduce(0) { $0 + $1.width }
        let maxHeight = panels.map(\.height).max() ?? 1
        var svg = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(totalWidth)" height="\(maxHeight)" viewBox="0 0 \(totalWidth) \(maxHeight)" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
        <rect x="0" y="0" width="\(totalWidth)" height="\(maxHeight)" fill="#ffffff"/>

        """
        var x = 0
        for panel in panels {
            svg += "<g transform=\"translate(\(x),0)\">\n" + panel.svgBody() + "</g>\n"
            x += panel.width
        }
        return svg + "</svg>\n"
    }

    /// The chart's SVG elements, in its own coordinates.
    func svgBody() -> String {
        let layout = self.layout
        let area = layout.plotArea
        let textHeight = Double(BitmapFont.capHeight * LinePlot.textScale)
        let fontSize = 15, titleSize = 22
        var out = ""
        func n(_ v: Double) -> String {
            let r = (v * 100).rounded() / 100
            return r == r.rounded() ? String(Int(r)) : String(r)
        }
        // Grid and ticks.
        for value in layout.yTicks.values {
            let py = layout.position(x: layout.xTicks.range.lowerBound, y: value).y
            out += "<line x1=\"\(area.x)\" y1=\"\(n(py))\" x2=\"\(area.maxX)\" y2=\"\(n(py))\" stroke=\"#e8e8e8\"/>\n"
            out += "<line x1=\"\(area.x - 6)\" y1=\"\(n(py))\" x2=\"\(area.x)\" y2=\"\(n(py))\" stroke=\"#404040\"/>\n"
            out += "<text x=\"\(area.x - 10)\" y=\"\(n(py + textHeight / 2))\" font-size=\"\(fontSize)\" text-anchor=\"end\" fill=\"#404040\">\(escape(layout.yTicks.label(value)))</text>\n"
        }
        for value in layout.xTicks.values {
            let px = layout.position(x: value, y: layout.yTicks.range.lowerBound).x
            out += "<line x1=\"\(n(px))\" y1=\"\(area.y)\" x2=\"\(n(px))\" y2=\"\(area.maxY)\" stroke=\"#e8e8e8\"/>\n"
            out += "<line x1=\"\(n(px))\" y1=\"\(area.maxY)\" x2=\"\(n(px))\" y2=\"\(area.maxY + 6)\" stroke=\"#404040\"/>\n"
            out += "<text x=\"\(n(px))\" y=\"\(n(Double(area.maxY + 10) + textHeight))\" font-size=\"\(fontSize)\" text-anchor=\"middle\" fill=\"#404040\">\(escape(layout.xTicks.label(value)))</text>\n"
        }
        out += "<polyline points=\"\(area.x),\(area.y) \(area.x),\(area.maxY) \(area.maxX),\(area.maxY)\" fill=\"none\" stroke=\"#404040\" stroke-width=\"2\"/>\n"
        // Series.
        for index in series.indices {
            let color = self.color(ofSeries: index).hex
            let dash = series[index].dashed ? " stroke-dasharray=\"10 6\"" : ""
            for run in pixelRuns(of: index, in: layout) {
                let points = run.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: " ")
                out += "<polyline class=\"series\" data-name=\"\(escape(series[index].name))\" points=\"\(points)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2.5\" stroke-linejoin=\"round\" stroke-linecap=\"round\"\(dash)/>\n"
                if run.count <= 60 {
                    for p in run { out += "<circle cx=\"\(n(p.x))\" cy=\"\(n(p.y))\" r=\"3.5\" fill=\"\(color)\"/>\n" }
                }
            }
        }
        // Legend.
        if layout.legend.width > 0 {
            let box = layout.legend
            out += "<rect class=\"legend\" x=\"\(box.x)\" y=\"\(box.y)\" width=\"\(box.width)\" height=\"\(box.height)\" fill=\"#ffffff\" stroke=\"#bebebe\"/>\n"
            for (index, entry) in layout.legendEntries.enumerated() {
                let mid = Double(entry.swatch.y) + Double(entry.swatch.height) / 2
                let dash = series[index].dashed ? " stroke-dasharray=\"8 4\"" : ""
                out += "<line x1=\"\(entry.swatch.x)\" y1=\"\(n(mid))\" x2=\"\(entry.swatch.maxX)\" y2=\"\(n(mid))\" stroke=\"\(color(ofSeries: index).hex)\" stroke-width=\"2.5\"\(dash)/>\n"
                out += "<text x=\"\(entry.text.x)\" y=\"\(entry.text.maxY)\" font-size=\"\(fontSize)\" fill=\"#000000\">\(escape(series[index].name))</text>\n"
            }
        }
        // Title and labels.
        if !title.isEmpty {
            out += "<text x=\"\(area.x + area.width / 2)\" y=\"\(layout.title.maxY)\" font-size=\"\(titleSize)\" text-anchor=\"middle\" fill=\"#000000\">\(escape(title))</text>\n"
        }
        if !xLabel.isEmpty {
            out += "<text x=\"\(area.x + area.width / 2)\" y=\"\(layout.xLabel.maxY)\" font-size=\"\(fontSize + 1)\" text-anchor=\"middle\" fill=\"#000000\">\(escape(xLabel))</text>\n"
        }
        if !yLabel.isEmpty {
            let cx = layout.yLabel.maxX, cy = area.y + area.height / 2
            out += "<text x=\"\(cx)\" y=\"\(cy)\" font-size=\"\(fontSize + 1)\" text-anchor=\"middle\" fill=\"#000000\" transform=\"rotate(-90 \(cx) \(cy))\">\(escape(yLabel))</text>\n"
        }
        return out
    }

    /// Text made safe for XML.
    func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}

extension PixelRect {
    /// The rectangle moved by (`dx`, `dy`).
    func offset(_ dx: Int, _ dy: Int) -> PixelRect {
        PixelRect(x: x + dx, y: y + dy, width: width, height: height)
    }
}
