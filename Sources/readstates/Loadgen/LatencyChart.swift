import Foundation

/// Latency over time as an SVG a person can open in a browser: per-second p50, p99
/// and max on a log scale, like the charts Discord published of its Go and Rust
/// Read States services.
struct LatencyChart {
    var title: String
    var lines: [LoadReport.SecondLine]

    private let width = 960.0
    private let height = 440.0
    private let left = 70.0, right = 20.0, top = 50.0, bottom = 50.0

    func svg() -> String {
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let values = lines.flatMap { [$0.p50, $0.p99, $0.max] }.filter { $0 > 0 }
        let lowest = floor(log10(max(values.min() ?? 0.01, 0.001)))
        let highest = max(ceil(log10(max(values.max() ?? 1, 0.001))), lowest + 1)
        let seconds = Double(max(lines.last?.second ?? 1, 1))
        // Coordinates to a tenth of a pixel keep a 300-second chart small.
        func x(_ second: Int) -> String { String(format: "%.1f", left + plotWidth * Double(second) / seconds) }
        func y(_ milliseconds: Double) -> String {
            let clamped = max(milliseconds, pow(10, lowest))
            return String(format: "%.1f", top + plotHeight * (highest - log10(clamped)) / (highest - lowest))
        }

        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="24" font-size="15">\(escape(title))</text>

            """
        // One grid line per decade, labelled in milliseconds.
        var decade = lowest
        while decade <= highest {
            let value = pow(10, decade)
            let label = value >= 1 ? String(format: "%.0f ms", value) : String(format: "%g ms", value)
            svg += ##"<line x1="\##(left)" x2="\##(width - right)" y1="\##(y(value))" y2="\##(y(value))" stroke="#ddd"/>"##
            svg += #"<text x="\#(left - 6)" y="\#(y(value))" dy="4" text-anchor="end">\#(label)</text>"# + "\n"
            decade += 1
        }
        let step = max(1, Int(seconds / 10))
        for second in stride(from: 0, through: Int(seconds), by: step) {
            svg += #"<text x="\#(x(second))" y="\#(height - bottom + 18)" text-anchor="middle">\#(second)</text>"# + "\n"
        }
        svg += #"<text x="\#(left + plotWidth / 2)" y="\#(height - 12)" text-anchor="middle">seconds</text>"# + "\n"
        svg += ##"<rect x="\##(left)" y="\##(top)" width="\##(plotWidth)" height="\##(plotHeight)" fill="none" stroke="#888"/>"## + "\n"

        let series: [(String, String, KeyPath<LoadReport.SecondLine, Double>)] = [
            ("max", "#d62728", \.max), ("p99", "#ff7f0e", \.p99), ("p50", "#1f77b4", \.p50),
        ]
        for (index, (name, color, path)) in series.enumerated() {
            let points = lines.filter { $0.completed > 0 }.map { "\(x($0.second)),\(y($0[keyPath: path]))" }
            svg += #"<polyline fill="none" stroke="\#(color)" stroke-width="1.5" points="\#(points.joined(separator: " "))"/>"# + "\n"
            let legendX = width - right - 240 + Double(index) * 80
            svg += #"<line x1="\#(legendX)" x2="\#(legendX + 20)" y1="38" y2="38" stroke="\#(color)" stroke-width="3"/>"#
            svg += #"<text x="\#(legendX + 25)" y="42">\#(name)</text>"# + "\n"
        }
        return svg + "</svg>\n"
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
