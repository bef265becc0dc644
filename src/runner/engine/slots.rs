//! Execution slots: a fair counting semaphore with two classes. A holder
//! of a slot may run; waiters are served in arrival order, the high class
//! before the low one. Used for a node's execution slots (its thread
//! budget, the same on both execution models) and for the concurrent
//! sequences of the emulated LLM endpoint.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread::Thread;

/// A parked waiter: set when a slot is handed to it.
type Waiter = (Thread, Arc<AtomicBool>);

#[derive(Default)]
struct Queues {
    high: VecDeque<Waiter>,
    low: VecDeque<Waiter>,
}

/// A free slot is taken without a lock while nobody waits; otherwise
/// waiters queue and a released slot goes straight to the first of them
/// (no thundering herd).
pub struct Slots {
    limit: AtomicUsize,
    used: AtomicUsize,
    /// Threads queued or about to queue.
    waiting: AtomicUsize,
    queues: Mutex<Queues>,
}

impl Slots {
    pub fn new(limit: usize) -> Slots {
        Slots {
            limit: AtomicUsize::new(limit.max(1)),
            used: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            queues: Mutex::new(Queues::default()),
        }
    }

    fn try_take(&self) -> bool {
        let mut used = self.used.load(SeqCst);
        loop {
            if used >= self.limit.load(SeqCst) {
                return false;
            }
            match self.used.compare_exchange_weak(used, used + 1, SeqCst, SeqCst) {
                Ok(_) => return true,
                Err(now) => used = now,
            }
        }
    }

    /// Wait for a slot: first come, first served within a class, the high
    /// class first.
    pub fn acquire(&self, high: bool) {
        if self.waiting.load(SeqCst) == 0 && self.try_take() {
            return;
        }
        let granted = Arc::new(AtomicBool::new(false));
        {
            let mut q = self.queues.lock().unwrap();
            self.waiting.fetch_add(1, SeqCst);
            // Nobody ahead of us (in our class or above) and a slot free: take it.
            if q.high.is_empty() && (high || q.low.is_empty()) && self.try_take() {
                self.waiting.fetch_sub(1, SeqCst);
                return;
            }
            let waiter = (std::thread::current(), granted.clone());
            if high {
                q.high.push_back(waiter);
            } else {
                q.low.push_back(waiter);
            }
        }
        while !granted.load(SeqCst) {
            std::thread::park();
        }
    }

    pub fn release(&self) {
        self.used.fetch_sub(1, SeqCst);
        if self.waiting.load(SeqCst) > 0 {
            self.grant();
        }
    }

    /// Hand free slots to the first waiters.
    fn grant(&self) {
        let mut q = self.queues.lock().unwrap();
        while !(q.high.is_empty() && q.low.is_empty()) && self.try_take() {
            let (thread, granted) = q.high.pop_front().or_else(|| q.low.pop_front()).expect("not empty");
            self.waiting.fetch_sub(1, SeqCst);
            granted.store(true, SeqCst);
            thread.unpark();
        }
    }

    /// Change the number of slots (online reconfiguration); holders keep
    /// theirs, new acquisitions see the new limit.
    pub fn set_limit(&self, limit: usize) {
        self.limit.store(limit.max(1), SeqCst);
        self.grant();
    }

    pub fn limit(&self) -> usize {
        self.limit.load(SeqCst)
    }

    /// Slots held.
    pub fn used(&self) -> usize {
        self.used.load(SeqCst)
    }

    /// Slots held plus waiters: the node's outstanding work.
    pub fn demand(&self) -> usize {
        self.used.load(SeqCst) + self.waiting.load(SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn at_most_limit_holders_and_high_class_first() {
        let slots = Arc::new(Slots::new(2));
        let running = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (slots, running, peak) = (slots.clone(), running.clone(), peak.clone());
                std::thread::spawn(move || {
                    slots.acquire(i % 2 == 0);
                    let now = running.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    peak.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(2));
                    running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    slots.release();
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert!(peak.load(std::sync::atomic::Ordering::SeqCst) <= 2);
        // A held slot: a high waiter goes before a low one that waited longer.
        let slots = Arc::new(Slots::new(1));
        slots.acquire(false);
        let order = Arc::new(Mutex::new(Vec::new()));
        let low = {
            let (s, o) = (slots.clone(), order.clone());
            std::thread::spawn(move || {
                s.acquire(false);
                o.lock().unwrap().push("low");
                s.release();
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        let high = {
            let (s, o) = (slots.clone(), order.clone());
            std::thread::spawn(move || {
                s.acquire(true);
                o.lock().unwrap().push("high");
                s.release();
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(slots.demand(), 3);
        slots.release();
        low.join().unwrap();
        high.join().unwrap();
        assert_eq!(*order.lock().unwrap(), ["high", "low"]);
    }
}
