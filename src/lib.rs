//! Tolmach: a Chinese–Russian–English terminology and translation-memory server.
//!
//! Dependencies point one way: [`server`] → [`transport`], [`web`] → [`service`] → [`auth`] →
//! [`app`] → [`index`], [`store`], [`formats`] → [`text`], [`model`]; [`cluster`] (the
//! replicated log of cluster mode) sits beside [`server`] and uses [`app`] and [`store`]. Only `service`,
//! `transport`, `server` and the access layer of `auth` know about gRPC (`web` serves the
//! page and the JSON API on the same port); every write goes through
//! [`app::writes`], every heavy piece of work through [`app::work`].
#![deny(missing_docs)]

/// Declared in the library so that the server, the tests and the benchmarks all run on the
/// allocator the server ships with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod app;
pub mod auth;
pub mod cluster;
pub mod formats;
pub mod index;
pub mod model;
mod rpc;
pub mod server;
pub mod service;
pub mod store;
pub mod text;
pub mod transport;
pub mod web;
