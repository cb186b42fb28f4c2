import Foundation

/// The learning rate at each optimizer step: linear warm-up from 0, then constant, linear decay or cosine decay
/// to `minimumRatio × peak` at the last step — the schedules of transformers' `get_scheduler` and mlx-lm.
public struct LearningRateSchedule: Codable, Sendable, Equatable {
    public enum Shape: String, Codable, Sendable, CaseIterable {
        case constant, linear, cosine
    }

    public var shape: Shape
    public var peak: Double
    public var warmupSteps: Int
    public var totalSteps: Int
    /// The final learning rate as a fraction of `peak` (linear and cosine only).
    public var minimumRatio: Double

    public init(shape: Shape = .cosine, peak: Double, warmupSteps: Int = 0, totalSteps: Int, minimumRatio: Double = 0) {
        self.shape = shape
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minimumRatio = minimumRatio
    }

    /// Checks the values; the message names the flag to fix.
    public func validate() throws {
        guard peak.isFinite, peak > 0 else { throw ScheduleError("learning rate must be > 0, got \(peak)") }
        guard totalSteps > 0 else { throw ScheduleError("the number of steps must be > 0, got \(totalSteps)") }
        guard warmupSteps >= 0, warmupSteps <= totalSteps else {
            throw ScheduleError("warm-up steps must be in 0...\(totalSteps), got \(warmupSteps)")
        }
        guard minimumRatio >= 0, minimumRatio <= 1 else {
            throw ScheduleError("minimum learning-rate ratio must be in [0, 1], got \(minimumRatio)")
        }
    }

    /// The learning rate for optimizer step `step` (0-based).
    public func learningRate(at step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step + 1) / Double(warmupSteps + 1) }
        let decaySteps = max(totalSteps - warmupSteps, 1)
        let progress = min(Double(step - warmupSteps) / Double(decaySteps), 1)
        let floor = peak * minimumRatio
        switch shape {
        case .constant: return peak
        case .linear: return floor + (peak - floor) * (1 - progress)
        case .cosine: return floor + (peak - floor) * 0.5 * (1 + cos(Double.pi * progress))
        }
    }
}

/// A schedule parameter out of range.
public struct ScheduleError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}
