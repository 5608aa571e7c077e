//! Learning-rate schedules with linear warm-up, stepped once per iteration and saved in
//! checkpoints so a resumed run continues the same curve.

use crate::classifier::ScheduleKind;
use burn::optim::lr_scheduler::{LrScheduler, LrSchedulerRecord};

#[derive(Clone, Debug)]
pub struct WarmupSchedule {
    pub peak_lr: f64,
    pub warmup_iters: usize,
    pub total_iters: usize,
    pub kind: ScheduleKind,
    /// Step schedule: iterations between decays, and the factor.
    pub step_iters: usize,
    pub gamma: f64,
    iteration: usize,
}

impl WarmupSchedule {
    pub fn new(
        kind: ScheduleKind,
        peak_lr: f64,
        warmup_iters: usize,
        total_iters: usize,
        step_iters: usize,
        gamma: f64,
    ) -> Self {
        Self {
            peak_lr,
            warmup_iters,
            total_iters: total_iters.max(1),
            kind,
            step_iters: step_iters.max(1),
            gamma,
            iteration: 0,
        }
    }

    /// The rate of iteration `i` (0-based).
    pub fn lr_at(&self, i: usize) -> f64 {
        if i < self.warmup_iters {
            return self.peak_lr * (i + 1) as f64 / self.warmup_iters as f64;
        }
        let after = i - self.warmup_iters;
        match self.kind {
            ScheduleKind::Constant => self.peak_lr,
            ScheduleKind::Cosine => {
                let span = (self.total_iters - self.warmup_iters.min(self.total_iters)).max(1);
                let progress = (after as f64 / span as f64).min(1.0);
                0.5 * self.peak_lr * (1.0 + (std::f64::consts::PI * progress).cos())
            }
            ScheduleKind::Linear => {
                let span = (self.total_iters - self.warmup_iters.min(self.total_iters)).max(1);
                self.peak_lr * (1.0 - after as f64 / span as f64).max(0.0)
            }
            ScheduleKind::Step => self.peak_lr * self.gamma.powi((after / self.step_iters) as i32),
        }
    }
}

impl LrScheduler for WarmupSchedule {
    fn step(&mut self) -> f64 {
        let lr = self.lr_at(self.iteration);
        self.iteration += 1;
        lr
    }

    fn to_record(&self) -> LrSchedulerRecord {
        LrSchedulerRecord::new().with_scalar("iteration", self.iteration)
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        if let Some(iteration) = record.scalar::<u64>("iteration") {
            self.iteration = iteration as usize;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_cosine_to_zero_and_step_decay() {
        let s = WarmupSchedule::new(ScheduleKind::Cosine, 1.0, 10, 110, 1, 0.1);
        assert!((s.lr_at(0) - 0.1).abs() < 1e-12);
        assert!((s.lr_at(9) - 1.0).abs() < 1e-12);
        assert!((s.lr_at(60) - 0.5).abs() < 1e-12);
        assert!(s.lr_at(110) < 1e-12);
        let s = WarmupSchedule::new(ScheduleKind::Step, 1.0, 0, 100, 30, 0.1);
        assert_eq!(s.lr_at(29), 1.0);
        assert!((s.lr_at(30) - 0.1).abs() < 1e-12);
        let s = WarmupSchedule::new(ScheduleKind::Linear, 1.0, 10, 110, 1, 0.1);
        assert!((s.lr_at(4) - 0.5).abs() < 1e-12);
        assert!((s.lr_at(60) - 0.5).abs() < 1e-12);
        assert_eq!(s.lr_at(200), 0.0);
    }

    #[test]
    fn record_round_trip_continues_the_curve() {
        let mut a = WarmupSchedule::new(ScheduleKind::Cosine, 0.1, 0, 50, 1, 0.1);
        for _ in 0..17 {
            a.step();
        }
        let mut b = WarmupSchedule::new(ScheduleKind::Cosine, 0.1, 0, 50, 1, 0.1);
        b.load_record(a.to_record());
        assert_eq!(a.step(), b.step());
    }
}
