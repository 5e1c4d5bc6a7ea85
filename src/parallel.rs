//! Parallelism for the render stage ([`crate::render`]), whose work grows with the number of
//! sites: an ordered parallel map on scoped threads (each site's files) and a two-way join
//! (`setup.sh`'s data next to `PLAN.md`). std only: two primitives do not justify a crate.
//!
//! Results come back in input order, so the output stays byte-for-byte deterministic whatever
//! the thread count. Small inputs run on the calling thread: spawning costs more than it saves.

use std::num::NonZeroUsize;
use std::thread;

/// `items.iter().map(f).collect()`, split into contiguous chunks of at least `min_chunk` items,
/// one scoped thread per chunk (at most one per available core).
///
/// # Panics
/// Re-raises a panic of `f` on the calling thread (with its original payload).
pub fn map<T, R, F>(items: &[T], min_chunk: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let cores = thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let threads = cores.min(items.len() / min_chunk.max(1)).max(1);
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for handle in handles {
            match handle.join() {
                Ok(part) => out.extend(part),
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
        out
    })
}

/// Runs `a` on a scoped thread and `b` on this one, and returns both results.
///
/// # Panics
/// Re-raises a panic of `a` on the calling thread (a panic of `b` propagates as usual).
pub fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB,
    RA: Send,
{
    thread::scope(|scope| {
        let handle = scope.spawn(a);
        let rb = b();
        match handle.join() {
            Ok(ra) => (ra, rb),
            Err(payload) => std::panic::resume_unwind(payload),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{join, map};

    #[test]
    fn join_returns_both_results() {
        assert_eq!(join(|| 1 + 1, || "b"), (2, "b"));
    }

    #[test]
    fn keeps_input_order_at_every_size() {
        for len in [0, 1, 7, 64, 1_000, 4_099] {
            let items: Vec<usize> = (0..len).collect();
            let doubled = map(&items, 3, |i| i * 2);
            assert_eq!(doubled, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        }
    }

    #[test]
    #[should_panic(expected = "item 500")]
    fn a_panic_in_a_worker_reaches_the_caller() {
        let items: Vec<usize> = (0..1_000).collect();
        map(&items, 1, |&i| assert_ne!(i, 500, "item 500"));
    }
}
