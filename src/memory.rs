//! Handing freed memory back to the operating system after a burst of frees.
//!
//! The binary runs on mimalloc (`src/main.rs`). mimalloc keeps the pages a thread frees and
//! returns them to the OS lazily, when it next allocates in the same size classes or after a
//! purge delay. A watch's re-list is a burst: it decodes every object of its kind into a buffer,
//! applies the buffer to the fleet view and drops it (and kube's list pages and the decoded
//! objects with it), and that garbage stayed resident after the initial sync: the server's RSS
//! reflected its peak, not what its view holds. [`release_freed`], called by the watch driver
//! after each re-list (`fleet::watch`), asks mimalloc to return it. In issue 11's `fleet_scale`
//! (10,000 policies), RSS right after the policies' re-list went from 40.0 to 25.6 MiB, for
//! 11.8 MiB live on the heap.
//!
//! The call is mimalloc's `mi_collect(true)`: it frees the calling thread's empty pages to
//! mimalloc's arenas and purges (decommits) every arena's unused ranges, for every thread. Pages
//! that other threads own and that were freed from this one are only returned once their owner
//! collects or allocates again, so in a multi-threaded server it returns most of a re-list's
//! garbage, not necessarily all of it.
//!
//! It does not assume the process's global allocator: the call goes to mimalloc itself, which this
//! crate links whatever the global allocator is. Under another allocator (the test binaries use
//! the system's; a program embedding the library may choose its own) mimalloc holds no pages, so
//! the call finds nothing to free and returns after a few checks. With mimalloc, its cost is a
//! walk over the thread's pages and the arenas' bitmaps: `fleet_scale` prints it after each
//! re-list.

/// Asks the allocator to return the memory the process has freed and no longer uses (see the
/// module docs): call it after dropping a large batch of short-lived objects, not per request.
pub fn release_freed() {
    // SAFETY: `mi_collect` takes no pointer and only walks mimalloc's own structures; it is safe to
    // call from any thread at any time, whether or not mimalloc is the global allocator.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_under_another_global_allocator() {
        // The test binary allocates with the system allocator: mimalloc has nothing to collect.
        let garbage: Vec<Vec<u8>> = (0..1_000).map(|i| vec![0; i]).collect();
        drop(garbage);
        super::release_freed();
        super::release_freed();
    }
}
