import Foundation
import LoRAKit

/// The live progress line of `lorakit train` on standard error: rewritten in place on a terminal, one line per step
/// otherwise (logs, CI).
final class ProgressDisplay {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var open = false

    func show(_ event: TrainingEvent) {
        switch event {
        case .step(let m, let p):
            let line = String(format: "step %d/%d  loss %.4f  lr %.2e  %.0f tok/s  ETA %@  mem %.2f GB",
                              m.step, p.totalSteps, m.loss, m.learningRate, p.tokensPerSecond,
                              Self.duration(p.secondsRemaining), p.peakRSSMB / 1024)
            emit(line, transient: true)
        case .validation(let step, let loss):
            emit(String(format: "step %d: validation loss %.4f (perplexity %.2f)", step, loss, exp(loss)), transient: false)
        case .checkpoint(let step, let folder):
            emit("step \(step): checkpoint \(folder.path)", transient: false)
        }
    }

    func finish() { if open { FileHandle.standardError.write(Data("\n".utf8)); open = false } }

    private func emit(_ line: String, transient: Bool) {
        if isTerminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line + (transient ? "" : "\n")).utf8))
            open = transient
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
