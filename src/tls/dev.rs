//! Throwaway certificates for the demo, tests and benchmarks. Never for production.

use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};

/// rcgen failed (should not happen with these fixed parameters).
#[derive(Debug, thiserror::Error)]
#[error("generating a throwaway certificate: {0}")]
pub struct DevCertError(#[from] rcgen::Error);

/// A throwaway CA, a serving certificate for the given names, and a way to mint more.
pub struct DevCerts {
    /// CA certificate, PEM (the `caBundle`, and the `--client-ca` for mTLS tests).
    pub ca_pem: String,
    /// Serving certificate, PEM.
    pub cert_pem: String,
    /// Serving key, PEM (PKCS#8).
    pub key_pem: String,
    /// Serial of the serving certificate, lowercase hex with `:` separators (x509-parser style).
    pub serial: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for DevCerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevCerts")
            .field("serial", &self.serial)
            .finish_non_exhaustive()
    }
}

/// A certificate and its key, PEM.
#[derive(Debug, Clone)]
pub struct Pair {
    /// Certificate, PEM.
    pub cert_pem: String,
    /// Key, PEM (PKCS#8).
    pub key_pem: String,
    /// Serial, x509-parser style hex.
    pub serial: String,
}

/// A fresh CA and a serving certificate for `sans` (DNS names or IP addresses).
pub fn throwaway_ca_and_cert(sans: &[&str]) -> Result<DevCerts, DevCertError> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "karmada-takeover throwaway CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.serial_number = Some(serial_from(&ca_key));
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);
    let mut certs = DevCerts {
        ca_pem: ca_cert.pem(),
        cert_pem: String::new(),
        key_pem: String::new(),
        serial: String::new(),
        issuer,
    };
    let leaf = certs.serving_cert(sans)?;
    certs.cert_pem = leaf.cert_pem;
    certs.key_pem = leaf.key_pem;
    certs.serial = leaf.serial;
    Ok(certs)
}

impl DevCerts {
    /// Another serving certificate from the same CA (for rotation tests).
    pub fn serving_cert(&self, sans: &[&str]) -> Result<Pair, DevCertError> {
        let mut params = CertificateParams::new(sans.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())?;
        params.distinguished_name.push(
            DnType::CommonName,
            sans.first().copied().unwrap_or("karmada-takeover"),
        );
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params)
    }

    /// Another serving certificate from the same CA, valid from `not_before` to `not_after` (for
    /// expiry tests; the others are valid from 1975 to 4096, rcgen's defaults).
    pub fn serving_cert_valid(
        &self,
        sans: &[&str],
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Result<Pair, DevCertError> {
        let mut params = CertificateParams::new(sans.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())?;
        params.distinguished_name.push(
            DnType::CommonName,
            sans.first().copied().unwrap_or("karmada-takeover"),
        );
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        // rcgen takes `time::OffsetDateTime`: the Unix epoch plus the offset.
        let at = |t: SystemTime| {
            rcgen::date_time_ymd(1970, 1, 1) + t.duration_since(UNIX_EPOCH).unwrap_or_default()
        };
        params.not_before = at(not_before);
        params.not_after = at(not_after);
        self.sign(params)
    }

    /// A client certificate from the same CA (for mTLS tests and the demo).
    pub fn client_cert(&self, common_name: &str) -> Result<Pair, DevCertError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params)
    }

    fn sign(&self, mut params: CertificateParams) -> Result<Pair, DevCertError> {
        let key = KeyPair::generate()?;
        let serial = serial_from(&key);
        let serial_hex = serial
            .to_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":");
        params.serial_number = Some(serial);
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Pair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            serial: serial_hex,
        })
    }
}

/// A positive 16-byte serial taken from the (random) public key, so every key has its own.
fn serial_from(key: &KeyPair) -> SerialNumber {
    let raw = key.public_key_raw();
    let mut bytes: Vec<u8> = raw.iter().skip(1).take(16).copied().collect();
    if let Some(first) = bytes.first_mut() {
        *first = (*first & 0x7f) | 0x10;
    }
    SerialNumber::from_slice(&bytes)
}
