//! A download's progress in words: bytes of total, speed over the last few seconds, time left.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// Speed is measured over this many most recent milliseconds.
const WINDOW_MS: f64 = 5000.0;

/// What the worker reports of one file as it arrives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub file: String,
    pub received: u64,
    /// `Content-Length`, when the server sent one.
    pub total: Option<u64>,
    /// Bytes per second over the last few seconds.
    pub speed: Option<f64>,
    /// Set while waiting to resume after a dropped connection.
    pub retry: Option<String>,
}

impl Progress {
    /// Fraction done, when the total is known.
    pub fn fraction(&self) -> Option<f64> {
        self.total.filter(|&t| t > 0).map(|t| (self.received as f64 / t as f64).min(1.0))
    }

    /// `model.safetensors: 12.3 MB of 548.1 MB · 4.2 MB/s · about 2 min left`.
    pub fn summary(&self) -> String {
        let mut parts = vec![match self.total {
            Some(total) => format!("{}: {} of {}", self.file, format_bytes(self.received), format_bytes(total)),
            None => format!("{}: {}", self.file, format_bytes(self.received)),
        }];
        if let Some(speed) = self.speed.filter(|s| *s > 0.0) {
            parts.push(format!("{}/s", format_bytes(speed as u64)));
            if let Some(total) = self.total {
                let left = total.saturating_sub(self.received) as f64 / speed;
                parts.push(format!("about {} left", format_duration(left)));
            }
        }
        if let Some(retry) = &self.retry {
            parts.push(retry.clone());
        }
        parts.join(" · ")
    }
}

/// Measures speed from (time, bytes received) samples.
#[derive(Debug, Default)]
pub struct Meter {
    samples: VecDeque<(f64, u64)>,
}

impl Meter {
    pub fn record(&mut self, now_ms: f64, received: u64) {
        // A restart from zero makes the old samples meaningless.
        if self.samples.back().is_some_and(|&(_, r)| r > received) {
            self.samples.clear();
        }
        self.samples.push_back((now_ms, received));
        while self.samples.len() > 2 && self.samples.front().is_some_and(|&(t, _)| now_ms - t > WINDOW_MS) {
            self.samples.pop_front();
        }
    }

    /// Bytes per second across the window, once it spans some time.
    pub fn speed(&self) -> Option<f64> {
        let (&(t0, r0), &(t1, r1)) = (self.samples.front()?, self.samples.back()?);
        (t1 - t0 >= 200.0).then(|| (r1 - r0) as f64 * 1000.0 / (t1 - t0))
    }
}

/// Bytes in decimal units, as download sizes are usually given: `980 B`, `12.3 MB`, `1.52 GB`.
pub fn format_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.1} kB", b / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", b / 1e6),
        1_000_000_000..1_000_000_000_000 => format!("{:.1} GB", b / 1e9),
        1_000_000_000_000..1_000_000_000_000_000 => format!("{:.1} TB", b / 1e12),
        1_000_000_000_000_000..1_000_000_000_000_000_000 => format!("{:.1} PB", b / 1e15),
        _ => format!("{:.1} EB", b / 1e18),
    }
}

/// Seconds as `45 s`, `2 min 5 s`, `1 h 3 min`.
pub fn format_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_naturally() {
        assert_eq!(format_bytes(980), "980 B");
        assert_eq!(format_bytes(12_345), "12.3 kB");
        assert_eq!(format_bytes(548_105_171), "548.1 MB");
        assert_eq!(format_bytes(1_519_947_528), "1.5 GB");
        assert_eq!(format_bytes(3_500_000_000_000), "3.5 TB");
        assert_eq!(format_bytes(u64::MAX), "18.4 EB");
        assert_eq!(format_duration(44.6), "45 s");
        assert_eq!(format_duration(125.0), "2 min 5 s");
        assert_eq!(format_duration(3780.0), "1 h 3 min");
        assert_eq!(format_duration(-3.0), "0 s");
    }

    #[test]
    fn speed_is_measured_over_the_recent_window() {
        let mut meter = Meter::default();
        meter.record(0.0, 0);
        assert_eq!(meter.speed(), None, "one sample is no speed");
        meter.record(1000.0, 1_000_000);
        assert_eq!(meter.speed(), Some(1_000_000.0));
        // slow for a while: the early fast second leaves the window
        for t in 2..=10 {
            meter.record(t as f64 * 1000.0, 1_000_000 + (t - 1) * 100_000);
        }
        assert_eq!(meter.speed(), Some(100_000.0));
        // a restart from zero forgets the old samples
        meter.record(11_000.0, 0);
        assert_eq!(meter.speed(), None);
    }

    #[test]
    fn the_summary_says_bytes_of_total_speed_and_time_left() {
        let mut p = Progress { file: "model.safetensors".into(), received: 100_000_000, total: Some(548_000_000), speed: Some(4_000_000.0), retry: None };
        assert_eq!(p.summary(), "model.safetensors: 100.0 MB of 548.0 MB · 4.0 MB/s · about 1 min 52 s left");
        assert_eq!(p.fraction(), Some(100.0 / 548.0));
        p.total = None;
        p.speed = None;
        p.retry = Some("connection lost; resuming in 2 s (try 1 of 3)".into());
        assert_eq!(p.summary(), "model.safetensors: 100.0 MB · connection lost; resuming in 2 s (try 1 of 3)");
        assert_eq!(p.fraction(), None);
    }
}
