//! An ordered parallel map on scoped threads, used by the two stages whose work grows with the
//! number of sites: rendering each site's files ([`crate::render`]) and hashing every file for
//! `SHA256SUMS` ([`crate::bundle::manifest`]).
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

#[cfg(test)]
mod tests {
    use super::map;

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
