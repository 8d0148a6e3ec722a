//! Garmin secrets at rest (the tokens, and a pending MFA challenge's session cookies):
//! XChaCha20-Poly1305 with a 32-byte key from configuration, a random 24-byte nonce per seal, and
//! what the blob is plus the runner's id as associated data (a blob copied to another runner, or
//! used as another kind of secret, does not open).

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};

use super::{GarminError, MfaChallenge, Tokens};
use crate::domain::UserId;

/// Environment variable holding the base64 32-byte key.
pub const SECRET_KEY_ENV: &str = "RUNCOACH_SECRET_KEY";
const MAGIC: &[u8; 4] = b"RCT1";
const NONCE_LEN: usize = 24;

/// Seals and opens tokens. Its `Debug` shows nothing of the key.
#[derive(Clone)]
pub struct TokenSealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for TokenSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSealer([REDACTED])")
    }
}

fn aad(user: UserId) -> Vec<u8> {
    format!("runcoach:garmin:{}", user.0).into_bytes()
}

fn mfa_aad(user: UserId) -> Vec<u8> {
    format!("runcoach:garmin-mfa:{}", user.0).into_bytes()
}

impl TokenSealer {
    #[must_use]
    pub fn from_key(key: &[u8; 32]) -> TokenSealer {
        TokenSealer { cipher: XChaCha20Poly1305::new(key.into()) }
    }

    /// A key written as base64 (standard alphabet, padding optional).
    pub fn from_base64(encoded: &str) -> Result<TokenSealer, GarminError> {
        let trimmed = encoded.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(trimmed)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed))
            .map_err(|_| GarminError::SecretKeyInvalid)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| GarminError::SecretKeyInvalid)?;
        Ok(TokenSealer::from_key(&key))
    }

    /// The configured key (`RUNCOACH_SECRET_KEY`, read into the settings); none is
    /// [`GarminError::SecretKeyMissing`].
    pub fn from_setting(key: Option<&SecretString>) -> Result<TokenSealer, GarminError> {
        match key.map(ExposeSecret::expose_secret) {
            Some(v) if !v.trim().is_empty() => TokenSealer::from_base64(v),
            _ => Err(GarminError::SecretKeyMissing),
        }
    }

    pub fn seal(&self, user: UserId, tokens: &Tokens) -> Result<Vec<u8>, GarminError> {
        let plain = serde_json::to_vec(&tokens.to_doc()).map_err(|e| GarminError::Unexpected(e.to_string()))?;
        self.seal_bytes(&aad(user), &plain)
    }

    /// Opens a sealed blob; a wrong key, another runner's blob or damaged bytes give
    /// [`GarminError::TokensUnreadable`].
    pub fn open(&self, user: UserId, sealed: &[u8]) -> Result<Tokens, GarminError> {
        let plain = self.open_bytes(&aad(user), sealed)?;
        let doc = serde_json::from_slice(&plain).map_err(|_| GarminError::TokensUnreadable)?;
        Ok(Tokens::from_doc(doc))
    }

    /// Seals a pending MFA challenge, so that the dialogue state (shared by every instance) can
    /// carry it to whichever instance receives the code.
    pub fn seal_mfa(&self, user: UserId, challenge: &MfaChallenge) -> Result<Vec<u8>, GarminError> {
        let plain = serde_json::to_vec(&challenge.to_doc()).map_err(|e| GarminError::Unexpected(e.to_string()))?;
        self.seal_bytes(&mfa_aad(user), &plain)
    }

    pub fn open_mfa(&self, user: UserId, sealed: &[u8]) -> Result<MfaChallenge, GarminError> {
        let plain = self.open_bytes(&mfa_aad(user), sealed)?;
        let doc: serde_json::Value = serde_json::from_slice(&plain).map_err(|_| GarminError::TokensUnreadable)?;
        MfaChallenge::from_doc(&doc).ok_or(GarminError::TokensUnreadable)
    }

    fn seal_bytes(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, GarminError> {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let nonce = XNonce::from(nonce_bytes);
        let sealed = self
            .cipher
            .encrypt(&nonce, Payload { msg: plain, aad })
            .map_err(|_| GarminError::Unexpected("sealing failed".into()))?;
        let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + sealed.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn open_bytes(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, GarminError> {
        let rest = sealed.strip_prefix(MAGIC).ok_or(GarminError::TokensUnreadable)?;
        let nonce: [u8; NONCE_LEN] =
            rest.get(..NONCE_LEN).and_then(|n| n.try_into().ok()).ok_or(GarminError::TokensUnreadable)?;
        let body = rest.get(NONCE_LEN..).ok_or(GarminError::TokensUnreadable)?;
        self.cipher.decrypt(&XNonce::from(nonce), Payload { msg: body, aad }).map_err(|_| GarminError::TokensUnreadable)
    }
}
