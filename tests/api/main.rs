//! Integration tests: each starts the real server on 127.0.0.1:0 with a temporary data
//! directory and talks to it through the generated gRPC client. One binary, one module per
//! area.

mod auth;
mod bad_input;
mod cli;
mod concepts;
mod concurrent_writes;
mod crash;
mod examples;
mod exchange;
mod hostile;
mod jobs;
mod lookup;
mod memory;
mod memory_index;
mod morphology;
mod peer_files;
mod pinyin;
mod platform;
mod quality;
mod ranking;
mod recognize;
mod review;
mod startup;
mod statuses;
mod term_index;
mod transport;
mod util;
mod watch;
mod web;
mod writes;
