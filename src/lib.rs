//! Tolmach: a Chinese–Russian–English terminology and translation-memory server.
#![deny(missing_docs)]

pub mod model;
pub mod store;
