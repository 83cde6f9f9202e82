//! Login sessions of the page: a browser logs in once with an API key and then carries a
//! cookie instead of the key, which the page's script never has to keep.
//!
//! A session is 256 random bits from the operating system, sent as the cookie
//! `tolmach_session` (`HttpOnly; SameSite=Strict; Path=/`, and `Secure` under TLS). The
//! server keeps only the SHA-256 of each, in memory, with the public id of the key it was
//! opened with; every use asks the key ring again for that key, so a session ends with its
//! key's revocation or expiry, and after [`IDLE`] without use. At most [`MAX_SESSIONS`] are
//! held: a login beyond that first drops the idle ones, then the least recently used. A
//! restart ends every session.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::app::AppError;
use crate::auth::{Caller, KeyRing};

/// The cookie's name.
pub const COOKIE: &str = "tolmach_session";

/// How long a session lives without use.
pub const IDLE: Duration = Duration::from_secs(12 * 3600);

/// Most sessions held at once: a newsroom's browsers many times over, a few MiB at most.
pub const MAX_SESSIONS: usize = 10_000;

/// Random bytes of a session id: 256 bits.
const ID_BYTES: usize = 32;

/// One open session.
struct Session {
    /// The public id of the key it was opened with.
    key_id: String,
    /// When it was last used, in ms since the epoch.
    used_ms: i64,
}

/// The open sessions of one server.
#[derive(Default)]
pub struct Sessions {
    /// By the SHA-256 of the session id, so that neither a lookup's timing nor a memory dump
    /// gives a usable id away.
    open: Mutex<HashMap<[u8; 32], Session>>,
}

impl Sessions {
    /// Opens a session for the key with public id `key_id`; answers the session id, the
    /// cookie's value.
    pub fn open(&self, key_id: &str, now_ms: i64) -> Result<String, AppError> {
        let mut id = [0u8; ID_BYTES];
        getrandom::fill(&mut id).map_err(|e| AppError::Internal {
            what: "reading the operating system's random source",
            detail: e.to_string(),
        })?;
        let id = URL_SAFE_NO_PAD.encode(id);
        let mut open = self.lock();
        if open.len() >= MAX_SESSIONS {
            open.retain(|_, session| !idle(session, now_ms));
        }
        if open.len() >= MAX_SESSIONS {
            let least_recent = open
                .iter()
                .min_by_key(|(_, session)| session.used_ms)
                .map(|(hash, _)| *hash);
            if let Some(hash) = least_recent {
                open.remove(&hash);
            }
        }
        open.insert(
            hash(&id),
            Session {
                key_id: key_id.to_owned(),
                used_ms: now_ms,
            },
        );
        Ok(id)
    }

    /// The caller session `id` stands for at `now_ms`, as its key is now; `None` when there
    /// is no such session or it has ended (idle too long, its key revoked or expired), in
    /// which case it is forgotten.
    pub fn caller(&self, id: &str, keys: &KeyRing, now_ms: i64) -> Option<Caller> {
        let hash = hash(id);
        let mut open = self.lock();
        let session = open.get_mut(&hash)?;
        let caller = if idle(session, now_ms) {
            None
        } else {
            keys.verify_id(&session.key_id, now_ms).ok()
        };
        match caller {
            Some(caller) => {
                session.used_ms = now_ms;
                Some(caller)
            }
            None => {
                open.remove(&hash);
                None
            }
        }
    }

    /// Ends session `id`, if it is open.
    pub fn close(&self, id: &str) {
        self.lock().remove(&hash(id));
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<[u8; 32], Session>> {
        // Every change replaces or removes a whole entry, so a panic elsewhere while the lock
        // was held leaves the map consistent.
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn idle(session: &Session, now_ms: i64) -> bool {
    now_ms - session.used_ms > IDLE.as_millis() as i64
}

fn hash(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// The session id among a request's `Cookie` header values.
pub fn from_cookies<'a>(cookies: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    cookies
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// The `Set-Cookie` value that gives the browser session `id`.
pub fn set_cookie(id: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/{secure}")
}

/// The `Set-Cookie` value that makes the browser forget its session.
pub fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::auth::{NewKey, Role};
    use crate::store::Store;

    /// A key ring with one reader key made at time 0 and expiring at `expires_ms`; answers
    /// the ring and the key's public id.
    async fn ring(expires_ms: Option<i64>) -> (Arc<KeyRing>, String) {
        let ring = KeyRing::load(Store::temporary().unwrap()).unwrap();
        let key = NewKey {
            name: "desk-7".into(),
            role: Role::Reader,
            collections: Vec::new(),
            memories: Vec::new(),
            expires_ms,
        };
        let (record, _) = ring.create(&Caller::open(), key, 0).await.unwrap();
        (ring, record.id)
    }

    #[tokio::test]
    async fn a_session_lasts_while_used_and_ends_after_its_idle_time() {
        let (keys, key_id) = ring(None).await;
        let sessions = Sessions::default();
        let id = sessions.open(&key_id, 0).unwrap();
        let idle = IDLE.as_millis() as i64;
        let caller = sessions
            .caller(&id, &keys, idle)
            .expect("used within its idle time");
        assert_eq!(caller.key, "desk-7");
        assert!(
            sessions.caller(&id, &keys, 2 * idle).is_some(),
            "renewed by use"
        );
        assert!(sessions.caller(&id, &keys, 3 * idle + 1).is_none());
        assert!(
            sessions.caller(&id, &keys, 3 * idle + 2).is_none(),
            "forgotten"
        );
        assert!(sessions.caller("made-up", &keys, 0).is_none());
    }

    #[tokio::test]
    async fn a_session_ends_with_its_keys_expiry() {
        let (keys, key_id) = ring(Some(1_000)).await;
        let sessions = Sessions::default();
        let id = sessions.open(&key_id, 0).unwrap();
        assert!(sessions.caller(&id, &keys, 999).is_some());
        assert!(sessions.caller(&id, &keys, 1_000).is_none());
    }

    #[tokio::test]
    async fn past_the_bound_the_least_recently_used_session_goes() {
        let (keys, key_id) = ring(None).await;
        let sessions = Sessions::default();
        let first = sessions.open(&key_id, 0).unwrap();
        let second = sessions.open(&key_id, 1).unwrap();
        for _ in 2..MAX_SESSIONS {
            sessions.open(&key_id, 2).unwrap();
        }
        assert!(sessions.caller(&first, &keys, 3).is_some(), "used again");
        sessions.open(&key_id, 4).unwrap();
        assert_eq!(sessions.lock().len(), MAX_SESSIONS);
        assert!(sessions.caller(&second, &keys, 5).is_none());
        assert!(sessions.caller(&first, &keys, 5).is_some());
    }

    #[test]
    fn the_cookie_is_secure_under_tls_and_cleared_on_logout() {
        let plain = set_cookie("abc", false);
        assert_eq!(
            plain,
            "tolmach_session=abc; HttpOnly; SameSite=Strict; Path=/"
        );
        assert!(set_cookie("abc", true).ends_with("; Secure"));
        assert!(clear_cookie(true).contains("Max-Age=0"));
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let headers = ["a=1; tolmach_session=abc", "b=2"];
        assert_eq!(from_cookies(headers.into_iter()), Some("abc"));
        assert_eq!(from_cookies(["tolmach_sessionx=1"].into_iter()), None);
    }
}
