//! Data parallelism over services with scoped threads: contiguous batches handed out to one
//! thread per core as each becomes free, results joined in order, so they are the same as a
//! sequential run's.
//!
//! Batches rather than one share per core: services differ in cost (backing resources,
//! workers, SLOs), and with equal shares one core sat idle for a tenth of a render at 1,000
//! services. std's scoped threads and a mutex over the batches are enough for this one
//! pattern; a work-stealing pool (rayon) would add a dependency for no measurable gain.

use std::sync::Mutex;

/// How many threads to use: the available parallelism, at least 1. Asked once: on Linux the
/// answer reads the cgroup's CPU quota from /proc and /sys, several files each time.
pub fn threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// Batches per thread: enough that uneven batches even out, few enough that handing them out
/// costs nothing.
const BATCHES_PER_THREAD: usize = 8;

/// Applies `f` to contiguous chunks of `items` on all cores; returns the results in order.
/// Small inputs run on the calling thread (spawning costs more than it saves).
pub fn map_chunks<T: Sync, R: Send>(items: &[T], f: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    let n = threads();
    if n == 1 || items.len() < 32 {
        return vec![f(items)];
    }
    in_batches(items.chunks(batch_size(items.len(), n)), n, || (), |(), c| f(c))
}

/// Like [`map_chunks`], with state of each thread's own that `init` makes once per thread:
/// a clone of something that must not be shared, such as a `regex::Regex`, whose cache pool is
/// fast only on the thread that used it first.
pub fn map_chunks_init<T: Sync, S, R: Send>(items: &[T], init: impl Fn() -> S + Sync, f: impl Fn(&mut S, &[T]) -> R + Sync) -> Vec<R> {
    let n = threads();
    if n == 1 || items.len() < 32 {
        return vec![f(&mut init(), items)];
    }
    in_batches(items.chunks(batch_size(items.len(), n)), n, init, f)
}

/// Like [`map_chunks`], with mutable access to each item.
pub fn map_chunks_mut<T: Send, R: Send>(items: &mut [T], f: impl Fn(&mut [T]) -> R + Sync) -> Vec<R> {
    let n = threads();
    if n == 1 || items.len() < 32 {
        return vec![f(items)];
    }
    in_batches(items.chunks_mut(batch_size(items.len(), n)), n, || (), |(), c| f(c))
}

fn batch_size(len: usize, threads: usize) -> usize {
    len.div_ceil(threads * BATCHES_PER_THREAD).max(1)
}

/// Runs `f` over `batches` on `threads` threads, each taking the next batch when it is done
/// with one, with its own state from `init`; the results in the batches' order.
fn in_batches<B: Send, S, R: Send>(batches: impl Iterator<Item = B> + Send, threads: usize, init: impl Fn() -> S + Sync, f: impl Fn(&mut S, B) -> R + Sync) -> Vec<R> {
    let queue = Mutex::new(batches.enumerate());
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let work = || {
            let mut state = init();
            let mut mine = Vec::new();
            loop {
                // Taken in its own statement: the lock is released before `f` runs.
                let next = queue.lock().unwrap_or_else(|e| e.into_inner()).next();
                let Some((i, batch)) = next else { return mine };
                mine.push((i, f(&mut state, batch)));
            }
        };
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(work)).collect();
        // A panic in a worker is a bug; re-raise it on the caller's thread, where main turns it
        // into the internal-error message and exit code.
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order() {
        let items: Vec<usize> = (0..1000).collect();
        let out: Vec<usize> = super::map_chunks(&items, |c| c.iter().map(|x| x * 2).collect::<Vec<_>>()).into_iter().flatten().collect();
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
    }

    #[test]
    fn makes_each_threads_state_once_and_keeps_order() {
        let items: Vec<usize> = (0..1000).collect();
        let made = std::sync::atomic::AtomicUsize::new(0);
        let init = || made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let out: Vec<usize> = super::map_chunks_init(&items, init, |_, c| c.iter().map(|x| x + 1).collect::<Vec<_>>()).into_iter().flatten().collect();
        assert_eq!(out, items.iter().map(|x| x + 1).collect::<Vec<_>>());
        let made = made.into_inner();
        assert!((1..=super::threads()).contains(&made), "state made {made} times for {} threads", super::threads());
    }

    #[test]
    fn keeps_order_with_uneven_batches_and_mutation() {
        let mut items: Vec<u64> = (0..1000).collect();
        // Early items cost far more than late ones, so batches finish out of order.
        let sums = super::map_chunks_mut(&mut items, |c| {
            for x in c.iter_mut() {
                if *x < 100 {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                *x += 1;
            }
            c.iter().sum::<u64>()
        });
        if super::threads() > 1 {
            assert!(sums.len() > 1, "split into batches");
        }
        assert_eq!(items, (1..=1000).collect::<Vec<u64>>());
        assert_eq!(sums.iter().sum::<u64>(), (1..=1000).sum::<u64>());
        let firsts: Vec<u64> = super::map_chunks_mut(&mut items, |c| c[0]);
        assert!(firsts.windows(2).all(|w| w[0] < w[1]), "in order: {firsts:?}");
    }
}
