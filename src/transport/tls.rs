//! TLS for the gRPC port: the server's certificate and key, and optionally the CA whose
//! client certificates it requires, read from PEM files at start-up.
//!
//! Each file is read and parsed here so that a start-up error names the file at fault; a key
//! that does not belong to its certificate is caught when tonic builds the rustls
//! configuration (see [`TlsFiles::unusable`]). Handshakes run beside the accept loop and are
//! bounded by [`HANDSHAKE_TIMEOUT`], so a client that opens a connection and never finishes
//! its hello holds nothing for long.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

/// How long a client has to finish its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The PEM files that turn TLS on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server's certificate chain, leaf first.
    pub cert: PathBuf,
    /// The certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// When set, only clients with a certificate signed by this CA are served.
    pub client_ca: Option<PathBuf>,
}

/// Why TLS could not be set up; each names its file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {file}: {source}")]
    Read {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file holds nothing usable of what it should.
    #[error("{file} holds no {what} in PEM form: {reason}")]
    Pem {
        /// The file.
        file: PathBuf,
        /// What it should hold: "certificate" or "private key".
        what: &'static str,
        /// What the PEM reader found.
        reason: String,
    },
    /// rustls refused the certificate and key together.
    #[error("the certificate {cert} and the key {key} cannot be used together: {reason}")]
    Unusable {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls said (a key that belongs to another certificate, a CA that is no
        /// certificate authority).
        reason: String,
    },
}

impl TlsFiles {
    /// The tonic TLS configuration these files make, each file checked on the way.
    pub fn server_config(&self) -> Result<ServerTlsConfig, TlsError> {
        let cert = read_certificates(&self.cert)?;
        let key = read(&self.key)?;
        PrivateKeyDer::from_pem_slice(&key).map_err(|error| TlsError::Pem {
            file: self.key.clone(),
            what: "private key",
            reason: error.to_string(),
        })?;
        let mut config = ServerTlsConfig::new()
            .identity(Identity::from_pem(cert, key))
            .timeout(HANDSHAKE_TIMEOUT);
        if let Some(ca) = &self.client_ca {
            config = config.client_ca_root(Certificate::from_pem(read_certificates(ca)?));
        }
        Ok(config)
    }

    /// The error for a configuration that rustls refused once built.
    pub fn unusable(&self, error: impl std::fmt::Display) -> TlsError {
        TlsError::Unusable {
            cert: self.cert.clone(),
            key: self.key.clone(),
            reason: error.to_string(),
        }
    }
}

fn read(file: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(file).map_err(|source| TlsError::Read {
        file: file.to_path_buf(),
        source,
    })
}

/// The file's bytes, once it is known to hold at least one certificate and nothing broken.
fn read_certificates(file: &Path) -> Result<Vec<u8>, TlsError> {
    let bytes = read(file)?;
    let pem_error = |reason: String| TlsError::Pem {
        file: file.to_path_buf(),
        what: "certificate",
        reason,
    };
    let mut count = 0;
    for certificate in CertificateDer::pem_slice_iter(&bytes) {
        certificate.map_err(|error| pem_error(error.to_string()))?;
        count += 1;
    }
    if count == 0 {
        return Err(pem_error("no CERTIFICATE section".to_owned()));
    }
    Ok(bytes)
}
