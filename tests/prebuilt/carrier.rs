//! Nothing of its own: brings the Rust runtime (std and the allocator shim) into the link.
