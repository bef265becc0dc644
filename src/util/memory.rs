//! Giving freed memory back to the operating system.
//!
//! The binary allocates with mimalloc. A block freed by another thread than
//! the one that allocated it waits on its owner's free list until that
//! thread allocates again; after a parallel stage the rayon workers go
//! idle, so the per-folder record buffers they filled would stay resident
//! while the main thread copies them into one array — twice the records at
//! the peak. [`release_freed`] asks every worker (and the caller) to
//! collect its free lists and return empty pages.

/// Collect the freed blocks of every rayon worker and of this thread and
/// return the empty pages to the OS (`mi_collect(true)`). Harmless when
/// another allocator is in use (the library's unit tests): mimalloc's own
/// heap is then empty.
pub fn release_freed() {
    rayon::broadcast(|_| collect());
    collect();
}

fn collect() {
    // SAFETY: mi_collect takes no pointers; it only walks this thread's heap.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
