//! HTTPS for `vetdesk serve`: the server's certificate — PEM files a clinic
//! gives, or one made on first start and kept — its SHA-256 fingerprint (what
//! a workstation pins when it is paired), and the rustls acceptor the accept
//! loop puts inside each connection ([`crate::server`]).
//!
//! A made certificate is self-signed, ECDSA P-256, valid for ten years, for
//! the names the caller lists. It lives in a folder of its own as `cert.pem`
//! and `key.pem`; the key is written with mode 0600 (and the folder 0700), to
//! a temporary file renamed into place, so a crash never leaves half a key.
//! Later starts load the same pair, so the fingerprint stays what was pinned.

use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// The made certificate's file in its folder.
pub const CERT_FILE: &str = "cert.pem";
/// The made certificate's private key in its folder (mode 0600).
pub const KEY_FILE: &str = "key.pem";
/// How long a made certificate is valid. It is pinned by fingerprint, so a
/// short life would only break paired workstations.
const VALID_DAYS: i64 = 3650;

/// Why the server's certificate could not be read, made or used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}: {source}", path.display())]
    Pem {
        path: PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("{} holds no PEM certificate", path.display())]
    NoCertificate { path: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot make a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// The key does not fit the certificate, or rustls cannot use either.
    #[error("cannot use the certificate and key: {0}")]
    Unusable(#[from] rustls::Error),
}

/// A certificate's SHA-256 fingerprint over its DER encoding, shown as
/// upper-case hex pairs joined by colons (as `openssl x509 -fingerprint -sha256`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub fn of_der(der: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(der).into())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Where a server's certificate came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `--tls-cert` / `--tls-key`.
    Given { cert: PathBuf },
    /// Made by vetdesk and kept in a folder; `created` on the start that made it.
    Made { cert: PathBuf, created: bool },
}

/// The server's certificate chain and key. The key is never printed.
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    origin: Origin,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("origin", &self.origin)
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// A certificate chain (the server's first) and its key, from PEM files.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Identity, TlsError> {
        Ok(Identity {
            chain: read_chain(cert)?,
            key: read_key(key)?,
            origin: Origin::Given {
                cert: cert.to_path_buf(),
            },
        })
    }

    /// The certificate kept in `dir`, made there first (for `names`: DNS
    /// names and IP addresses) when the folder does not hold one yet.
    pub fn made_in(dir: &Path, names: &[String]) -> Result<Identity, TlsError> {
        if let Some(kept) = Identity::kept_in(dir)? {
            return Ok(kept);
        }
        let key_pair = rcgen::KeyPair::generate()?;
        let mut params = rcgen::CertificateParams::new(names.to_vec())?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "vetdesk server");
        // A day early, for workstations whose clocks run behind.
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(VALID_DAYS);
        let cert = params.self_signed(&key_pair)?;

        create_private_dir(dir)?;
        // The key first: a certificate without its key is never left behind.
        write_atomically(&dir.join(KEY_FILE), key_pair.serialize_pem().as_bytes())?;
        let cert_path = dir.join(CERT_FILE);
        write_atomically(&cert_path, cert.pem().as_bytes())?;
        Ok(Identity {
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::try_from(key_pair.serialize_der())
                .map_err(|e| rustls::Error::General(e.to_string()))?,
            origin: Origin::Made {
                cert: cert_path,
                created: true,
            },
        })
    }

    /// The certificate kept in `dir`, if one was made there.
    pub fn kept_in(dir: &Path) -> Result<Option<Identity>, TlsError> {
        let (cert, key) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
        if !cert.is_file() || !key.is_file() {
            return Ok(None);
        }
        Ok(Some(Identity {
            chain: read_chain(&cert)?,
            key: read_key(&key)?,
            origin: Origin::Made {
                cert,
                created: false,
            },
        }))
    }

    /// The SHA-256 fingerprint of the server's own certificate.
    pub fn fingerprint(&self) -> Fingerprint {
        // `read_chain` and `made_in` never leave the chain empty.
        Fingerprint::of_der(self.chain.first().map_or(&[][..], |c| c.as_ref()))
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The server's certificate, DER-encoded.
    pub fn certificate_der(&self) -> &[u8] {
        self.chain.first().map_or(&[][..], |c| c.as_ref())
    }

    /// rustls (ring, TLS 1.2 and 1.3, HTTP/1.1 by ALPN) with this certificate.
    pub fn server_tls(&self) -> Result<ServerTls, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(ServerTls(TlsAcceptor::from(Arc::new(config))))
    }
}

/// The TLS side of a listening server: what each accepted connection is
/// handed to before HTTP is spoken on it.
#[derive(Clone)]
pub struct ServerTls(TlsAcceptor);

impl ServerTls {
    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.0
    }
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerTls")
    }
}

/// The fingerprint of the first certificate in a PEM file (no key needed).
pub fn certificate_fingerprint(path: &Path) -> Result<Fingerprint, TlsError> {
    let chain = read_chain(path)?;
    Ok(Fingerprint::of_der(
        chain.first().map_or(&[][..], |c| c.as_ref()),
    ))
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = |source| TlsError::Pem {
        path: path.to_path_buf(),
        source,
    };
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(pem)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem)?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(chain)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|source| TlsError::Pem {
        path: path.to_path_buf(),
        source,
    })
}

fn create_private_dir(dir: &Path) -> Result<(), TlsError> {
    let failed = |source| TlsError::Write {
        path: dir.to_path_buf(),
        source,
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(failed)
}

/// `bytes` at `path`, readable by the owner only, through a temporary file
/// renamed over it.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    let failed = |source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("pem.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(failed)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(failed)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_certificate_is_kept_and_its_key_is_private() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let tls = dir.path().join("tls");
        let names = ["localhost".to_string(), "127.0.0.1".to_string()];
        let first = Identity::made_in(&tls, &names).expect("made");
        assert!(matches!(first.origin(), Origin::Made { created: true, .. }));
        let again = Identity::made_in(&tls, &names).expect("kept");
        assert!(matches!(
            again.origin(),
            Origin::Made { created: false, .. }
        ));
        assert_eq!(first.fingerprint(), again.fingerprint());
        assert_eq!(
            first.fingerprint(),
            Fingerprint::of_der(again.certificate_der())
        );
        again.server_tls().expect("rustls takes it");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode(&tls.join(KEY_FILE)).ok(), Some(0o600));
            assert_eq!(mode(&tls).ok(), Some(0o700));
        }
        let given =
            Identity::from_pem_files(&tls.join(CERT_FILE), &tls.join(KEY_FILE)).expect("as PEM");
        assert_eq!(given.fingerprint(), first.fingerprint());
    }

    #[test]
    fn unreadable_or_mismatched_files_are_named() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let missing = dir.path().join("nope.pem");
        let err = Identity::from_pem_files(&missing, &missing).expect_err("no file");
        assert!(err.to_string().contains("nope.pem"), "{err}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not pem\n").expect("write");
        let err = Identity::from_pem_files(&empty, &empty).expect_err("no certificate");
        assert!(
            matches!(err, TlsError::NoCertificate { .. }),
            "{err:?}: {err}"
        );
        let a = Identity::made_in(&dir.path().join("a"), &["localhost".into()]).expect("a");
        let _b = Identity::made_in(&dir.path().join("b"), &["localhost".into()]).expect("b");
        let crossed = Identity::from_pem_files(
            &dir.path().join("a").join(CERT_FILE),
            &dir.path().join("b").join(KEY_FILE),
        )
        .expect("both read");
        assert!(
            crossed.server_tls().is_err(),
            "a key of another certificate"
        );
        assert_eq!(
            crossed.fingerprint(),
            a.fingerprint(),
            "the certificate file decides"
        );
    }

    #[test]
    fn fingerprints_print_as_colon_separated_hex() {
        let f = Fingerprint::of_der(b"abc");
        let s = f.to_string();
        assert_eq!(s.len(), 32 * 3 - 1);
        assert!(s.starts_with("BA:78:16:BF:8F:01:CF:EA"), "{s}");
    }
}
