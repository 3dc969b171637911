import Foundation
import DigitsCore
import DigitsVision

/// The loss and accuracy curves of a training run, train against test (and validation), as a
/// picture of two panels side by side.
public enum TrainingCurves {
    /// Two plots: loss per report, and accuracy (in percent) per report.
    public static func plots(_ reports: [TrainingReport], xLabel: String) -> [LinePlot] {
        let x = reports.map { Double($0.epoch) }
        func series(_ values: [Double?]) -> [(Double, Double)] {
            zip(x, values).compactMap { x, v in v.map { (x, $0) } }
        }
        var loss = LinePlot(title: "Loss", xLabel: xLabel, yLabel: "loss", width: 640, height: 420)
        loss.add("train", points: series(reports.map(\.trainLoss)))
        loss.add("test", points: series(reports.map(\.testLoss)), dashed: true)
        var accuracy = LinePlot(title: "Accuracy", xLabel: xLabel, yLabel: "accuracy (%)", width: 640, height: 420)
        accuracy.add("train", points: series(reports.map { $0.trainAccuracy * 100 }))
        accuracy.add("test", points: series(reports.map { $0.testAccuracy.map { $0 * 100 } }), dashed: true)
        if reports.contains(where: { $0.validationLoss != nil }) {
            loss.add("validation", points: series(reports.map(\.validationLoss)))
            accuracy.add("validation", points: series(reports.map { $0.validationAccuracy.map { $0 * 100 } }))
        }
        return [loss, accuracy]
    }

    /// Writes the curves to `path`: SVG when it ends in `.svg`, PNG otherwise.
    public static func write(_ reports: [TrainingReport], xLabel: String, to path: String) throws(ImageError) {
        let panels = plots(reports, xLabel: xLabel)
        let url = URL(fileURLWithPath: path)
        if path.lowercased().hasSuffix(".svg") {
            try ImageIO.writeText(LinePlot.renderSVG(panels: panels), to: url)
        } else {
            try ImageIO.writePNG(LinePlot.renderImage(panels: panels), to: url)
        }
    }
}
