import Foundation
import Testing
@testable import LoRAKitTrain

@Suite struct LearningRateScheduleTests {
    @Test func warmupRisesLinearlyToThePeak() {
        let s = LearningRateSchedule(shape: .constant, peak: 1e-3, warmupSteps: 4, totalSteps: 10)
        #expect(abs(s.learningRate(at: 0) - 2e-4) < 1e-12)
        #expect(abs(s.learningRate(at: 3) - 8e-4) < 1e-12)
        #expect(s.learningRate(at: 4) == 1e-3)
        #expect(s.learningRate(at: 9) == 1e-3)
    }

    @Test func cosineGoesFromPeakToFloor() {
        let s = LearningRateSchedule(shape: .cosine, peak: 1, warmupSteps: 0, totalSteps: 100, minimumRatio: 0.1)
        #expect(s.learningRate(at: 0) == 1)
        #expect(abs(s.learningRate(at: 50) - 0.55) < 1e-12)
        #expect(abs(s.learningRate(at: 100) - 0.1) < 1e-12)
    }

    @Test func linearDecaysToZero() {
        let s = LearningRateSchedule(shape: .linear, peak: 2, warmupSteps: 10, totalSteps: 110)
        #expect(s.learningRate(at: 10) == 2)
        #expect(abs(s.learningRate(at: 60) - 1) < 1e-12)
        #expect(s.learningRate(at: 110) == 0)
    }

    @Test(arguments: [
        LearningRateSchedule(peak: 0, totalSteps: 10), LearningRateSchedule(peak: 1, totalSteps: 0),
        LearningRateSchedule(peak: 1, warmupSteps: 11, totalSteps: 10),
        LearningRateSchedule(peak: 1, totalSteps: 10, minimumRatio: 2),
    ])
    func outOfRangeValuesAreRefused(_ schedule: LearningRateSchedule) {
        #expect(throws: ScheduleError.self) { try schedule.validate() }
    }
}
