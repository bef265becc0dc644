//! Execution slots: a fair counting semaphore with two classes. A holder
//! of a slot may run; waiters are served in arrival order, the high class
//! before the low one. Used for a node's execution slots (its thread
//! budget, the same on both execution models) and for the concurrent
//! sequences of the emulated LLM endpoint.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::Thread;

/// A parked waiter: set when a released slot is handed to it.
type Waiter = (Thread, Arc<AtomicBool>);

struct State {
    limit: usize,
    used: usize,
    high: VecDeque<Waiter>,
    low: VecDeque<Waiter>,
}

impl State {
    fn next_waiter(&mut self) -> Option<Waiter> {
        self.high.pop_front().or_else(|| self.low.pop_front())
    }
}

/// A released slot goes straight to the first waiter (no thundering herd).
pub struct Slots {
    state: Mutex<State>,
}

impl Slots {
    pub fn new(limit: usize) -> Slots {
        Slots { state: Mutex::new(State { limit, used: 0, high: VecDeque::new(), low: VecDeque::new() }) }
    }

    /// Wait for a slot: first come, first served within a class, the high
    /// class first.
    pub fn acquire(&self, high: bool) {
        let granted = Arc::new(AtomicBool::new(false));
        {
            let mut s = self.state.lock().unwrap();
            if s.used < s.limit && s.high.is_empty() && (high || s.low.is_empty()) {
                s.used += 1;
                return;
            }
            let waiter = (std::thread::current(), granted.clone());
            if high {
                s.high.push_back(waiter);
            } else {
                s.low.push_back(waiter);
            }
        }
        while !granted.load(Ordering::Acquire) {
            std::thread::park();
        }
    }

    pub fn release(&self) {
        let mut s = self.state.lock().unwrap();
        if s.used > s.limit {
            // The limit was lowered: this slot goes away.
            s.used -= 1;
        } else if let Some((thread, granted)) = s.next_waiter() {
            // The slot passes to the first waiter (`used` is unchanged).
            granted.store(true, Ordering::Release);
            thread.unpark();
        } else {
            s.used -= 1;
        }
    }

    /// Change the number of slots (online reconfiguration); holders keep
    /// theirs, new acquisitions see the new limit.
    pub fn set_limit(&self, limit: usize) {
        let mut s = self.state.lock().unwrap();
        s.limit = limit.max(1);
        while s.used < s.limit {
            let Some((thread, granted)) = s.next_waiter() else { break };
            s.used += 1;
            granted.store(true, Ordering::Release);
            thread.unpark();
        }
    }

    pub fn limit(&self) -> usize {
        self.state.lock().unwrap().limit
    }

    /// Slots held.
    pub fn used(&self) -> usize {
        self.state.lock().unwrap().used
    }

    /// Slots held plus waiters: the node's outstanding work.
    pub fn demand(&self) -> usize {
        let s = self.state.lock().unwrap();
        s.used + s.high.len() + s.low.len()
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
