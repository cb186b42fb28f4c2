import Foundation

/// The training and validation loss of a run as an SVG picture (`loss.svg`): step on x, loss on y, the training loss
/// as a thin line with its moving average, validation losses as dots joined by a line.
public enum LossCurve {
    public static func svg(_ records: [MetricsRecord], title: String = "loss") -> String {
        let train = records.compactMap { r in r.loss.map { (Double(r.step), $0) } }
        let valid = records.compactMap { r in r.validationLoss.map { (Double(r.step), $0) } }
        let (width, height) = (720.0, 420.0)
        let (left, right, top, bottom) = (64.0, 24.0, 36.0, 48.0)
        let all = train + valid
        var svg = ##"<svg xmlns="http://www.w3.org/2000/svg" width="720" height="420" viewBox="0 0 720 420" "##
            + ##"font-family="sans-serif" font-size="12">"## + "\n"
        svg += ##"<rect width="720" height="420" fill="white"/>"## + "\n"
        svg += ##"<text x="360" y="22" text-anchor="middle" font-size="15">\##(escape(title))</text>"## + "\n"
        guard let xMax = all.map(\.0).max(), let yLow = all.map(\.1).min(), let yHigh = all.map(\.1).max() else {
            return svg + ##"<text x="360" y="210" text-anchor="middle">no steps yet</text></svg>"## + "\n"
        }
        let xMin = min(all.map(\.0).min() ?? 0, xMax - 1)
        let pad = max((yHigh - yLow) * 0.05, 1e-3)
        let (y0, y1) = (yLow >= 0 ? max(0, yLow - pad) : yLow - pad, yHigh + pad)
        func px(_ x: Double) -> Double { left + (x - xMin) / (xMax - xMin) * (width - left - right) }
        func py(_ y: Double) -> Double { top + (y1 - y) / (y1 - y0) * (height - top - bottom) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        // Axes, grid and tick labels.
        for i in 0...5 {
            let y = y0 + (y1 - y0) * Double(i) / 5
            svg += ##"<line x1="\##(f(left))" x2="\##(f(width - right))" y1="\##(f(py(y)))" y2="\##(f(py(y)))" stroke="#e4e4e4"/>"##
            svg += ##"<text x="\##(f(left - 6))" y="\##(f(py(y) + 4))" text-anchor="end">\##(String(format: "%.3g", y))</text>"## + "\n"
            let x = xMin + (xMax - xMin) * Double(i) / 5
            svg += ##"<text x="\##(f(px(x)))" y="\##(f(height - bottom + 18))" text-anchor="middle">\##(Int(x.rounded()))</text>"## + "\n"
        }
        svg += ##"<rect x="\##(f(left))" y="\##(f(top))" width="\##(f(width - left - right))" height="\##(f(height - top - bottom))" fill="none" stroke="#888"/>"## + "\n"
        svg += ##"<text x="\##(f((left + width - right) / 2))" y="\##(f(height - 10))" text-anchor="middle">step</text>"## + "\n"
        func polyline(_ points: [(Double, Double)], color: String, widthPx: Double, opacity: Double = 1) -> String {
            guard !points.isEmpty else { return "" }
            let list = points.map { "\(f(px($0.0))),\(f(py($0.1)))" }.joined(separator: " ")
            return ##"<polyline points="\##(list)" fill="none" stroke="\##(color)" stroke-width="\##(widthPx)" stroke-opacity="\##(opacity)"/>"## + "\n"
        }
        svg += polyline(train, color: "#1f77b4", widthPx: 1, opacity: 0.35)
        svg += polyline(movingAverage(train, window: max(1, train.count / 25)), color: "#1f77b4", widthPx: 2)
        svg += polyline(valid, color: "#d62728", widthPx: 2)
        for (x, y) in valid {
            svg += ##"<circle cx="\##(f(px(x)))" cy="\##(f(py(y)))" r="3.5" fill="#d62728"/>"## + "\n"
        }
        // Legend.
        svg += ##"<line x1="\##(f(width - right - 170))" x2="\##(f(width - right - 150))" y1="50" y2="50" stroke="#1f77b4" stroke-width="2"/>"##
        svg += ##"<text x="\##(f(width - right - 144))" y="54">training loss (avg)</text>"## + "\n"
        if !valid.isEmpty {
            svg += ##"<circle cx="\##(f(width - right - 160))" cy="68" r="3.5" fill="#d62728"/>"##
            svg += ##"<text x="\##(f(width - right - 144))" y="72">validation loss</text>"## + "\n"
        }
        return svg + "</svg>\n"
    }

    static func movingAverage(_ points: [(Double, Double)], window: Int) -> [(Double, Double)] {
        guard window > 1 else { return points }
        var sum = 0.0
        return points.enumerated().map { i, p in
            sum += p.1
            if i >= window { sum -= points[i - window].1 }
            return (p.0, sum / Double(min(i + 1, window)))
        }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
