//! Karmada API types the engine reads and writes, and Karmada's well-known keys and name algorithms.
