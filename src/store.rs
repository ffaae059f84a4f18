//! The embedded store (sled 0.34): the only module that knows sled.
