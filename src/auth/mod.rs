//! Access control: API keys with a role and a scope, who may call what, and who wrote what.
//!
//! - `secret`: key strings (`tk_<id>_<secret>`): made from the operating system's random
//!   source, parsed, hashed;
//! - `caller`: the verified caller of a call (key name, role, scope) and the scope checks
//!   handlers make once they know the collection or memory;
//! - `keys`: the key ring: the keys of the store, verified in memory, created and revoked
//!   (each with its audit record), and the audit log read back;
//! - `layer`: the one tower layer in front of every service: it verifies the key a call
//!   carries, checks the method against the table of RPCs (`rpc.rs`), and leaves the
//!   [`Caller`] in the request's extensions for the handlers ([`caller`]).
//!
//! This module sits between `service/` and `app/`: it uses the application's errors and the
//! store, and the application knows only an [`Author`](crate::app::writes::Author) for its
//! audit. Only `layer` knows HTTP and tonic.
//!
//! A server with no key at all is open: every call is made as [`Caller::open`]. Once one
//! key exists (even revoked), every call but health and reflection needs a valid one.

mod caller;
mod keys;
mod layer;
mod secret;

pub use crate::store::{KeyRecord, Role};
pub use caller::{Caller, Scope};
pub use keys::{KeyRing, NewKey};
pub use layer::{admit, authorize, caller, sent_key, AccessLayer};
pub use secret::public_id;
