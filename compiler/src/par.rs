//! Data parallelism over services with scoped threads: contiguous chunks, one per core, joined
//! in order, so results are the same as a sequential run.
//!
//! std's scoped threads are enough for this one pattern; a work-stealing pool (rayon) would add
//! a dependency for no measurable gain on chunks of similar cost.

/// How many threads to use: the available parallelism, at least 1.
pub fn threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Applies `f` to contiguous chunks of `items` on all cores; returns the results in order.
/// Small inputs run on the calling thread (spawning costs more than it saves).
pub fn map_chunks<T: Sync, R: Send>(items: &[T], f: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    let n = threads();
    if n == 1 || items.len() < 32 {
        return vec![f(items)];
    }
    let size = items.len().div_ceil(n);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items.chunks(size).map(|chunk| scope.spawn(|| f(chunk))).collect();
        // A panic in a worker is a bug; re-raise it on the caller's thread, where main turns it
        // into the internal-error message and exit code.
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

/// Like [`map_chunks`], with mutable access to each item.
pub fn map_chunks_mut<T: Send, R: Send>(items: &mut [T], f: impl Fn(&mut [T]) -> R + Sync) -> Vec<R> {
    let n = threads();
    if n == 1 || items.len() < 32 {
        return vec![f(items)];
    }
    let size = items.len().div_ceil(n);
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = items.chunks_mut(size).map(|chunk| scope.spawn(move || f(chunk))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order() {
        let items: Vec<usize> = (0..1000).collect();
        let out: Vec<usize> = super::map_chunks(&items, |c| c.iter().map(|x| x * 2).collect::<Vec<_>>()).into_iter().flatten().collect();
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
    }
}
