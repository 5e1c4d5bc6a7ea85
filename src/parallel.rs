//! Parallelism on scoped threads, std only: an ordered parallel map for the render stage
//! ([`crate::render`]), whose work grows with the number of sites, the same map with a chosen
//! thread count for writing files ([`crate::bundle::write`]), and a two-way join (a host's
//! site files next to its host-wide files). Three primitives do not justify a crate.
//!
//! Results come back in input order, so the output stays byte-for-byte deterministic whatever
//! the thread count. Small inputs run on the calling thread: spawning costs more than it saves.

use std::num::NonZeroUsize;
use std::thread;

/// `items.iter().map(f).collect()`, split into contiguous chunks of at least `min_chunk` items,
/// one scoped thread per chunk (at most one per available core): for work bound by the CPU.
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
    map_on(items, cores.min(items.len() / min_chunk.max(1)), f)
}

/// Like [`map`] on exactly `threads` threads (one contiguous chunk each; at least one): for work
/// that waits on the kernel, such as creating files, where more threads than cores pay off.
///
/// # Panics
/// Re-raises a panic of `f` on the calling thread (with its original payload).
pub fn map_on<T, R, F>(items: &[T], threads: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let threads = threads.clamp(1, items.len().max(1));
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

/// Runs `a` on a scoped thread and `b` on this one, and returns both results; when `worth_a_thread`
/// is false (small inputs), runs both on this thread, `a` first.
///
/// # Panics
/// Re-raises a panic of `a` on the calling thread (a panic of `b` propagates as usual).
pub fn join<A, B, RA, RB>(worth_a_thread: bool, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA + Send,
    B: FnOnce() -> RB,
    RA: Send,
{
    if !worth_a_thread {
        return (a(), b());
    }
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
    use super::{join, map, map_on};

    #[test]
    fn join_returns_both_results() {
        assert_eq!(join(true, || 1 + 1, || "b"), (2, "b"));
        assert_eq!(join(false, || 1 + 1, || "b"), (2, "b"));
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
    fn map_on_keeps_order_with_more_threads_than_items() {
        for threads in [0, 1, 3, 8, 100] {
            let items: Vec<usize> = (0..7).collect();
            assert_eq!(map_on(&items, threads, |i| i + 1), [1, 2, 3, 4, 5, 6, 7]);
        }
    }

    #[test]
    #[should_panic(expected = "item 500")]
    fn a_panic_in_a_worker_reaches_the_caller() {
        let items: Vec<usize> = (0..1_000).collect();
        map(&items, 1, |&i| assert_ne!(i, 500, "item 500"));
    }
}
