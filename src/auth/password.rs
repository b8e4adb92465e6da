//! Passwords: the policy for new ones (OWASP ASVS 5, V6: 12–128 characters, no composition
//! rules, common passwords refused, never truncated) and Argon2id hashing on the blocking
//! pool behind a semaphore, so a login flood queues here instead of starving other routes.
//! Argon2's working memory is kept and reused (see `Arena`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::domain::Invalid;
use crate::error::FieldCode;

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 128;

static COMMON: &str = include_str!("common_passwords.txt");

/// Words that, with only digits or symbols around them, make a guessable password.
const GUESSABLE_BASES: &[&str] = &[
    "password",
    "passw0rd",
    "p@ssw0rd",
    "qwerty",
    "qwertyuiop",
    "letmein",
    "welcome",
    "iloveyou",
    "admin",
    "administrator",
    "dragon",
    "monkey",
    "football",
    "baseball",
    "sunshine",
    "princess",
    "shadow",
    "master",
    "superman",
    "trustno",
    "starwars",
    "changeme",
    "secret",
    "therapist",
    "therapy",
    "directory",
    "abc",
    "abcdef",
    "abcdefgh",
    "asdf",
    "asdfgh",
    "zxcvbnm",
    "login",
];

/// A new password that meets the policy. Only reachable through `parse`.
pub struct NewPassword(SecretString);

impl NewPassword {
    /// `personal` holds things the password must not equal (the email, the name).
    pub fn parse(raw: &str, personal: &[&str]) -> Result<Self, Invalid> {
        let chars = raw.chars().count();
        if chars < MIN_CHARS {
            return Err(Invalid::new(
                FieldCode::TooShort,
                format!(
                    "use at least {MIN_CHARS} characters; a few unrelated words make a strong password"
                ),
            ));
        }
        if chars > MAX_CHARS {
            return Err(Invalid::new(
                FieldCode::TooLong,
                format!("use at most {MAX_CHARS} characters"),
            ));
        }
        if is_common(raw)
            || personal
                .iter()
                .any(|p| !p.is_empty() && raw.eq_ignore_ascii_case(p))
        {
            return Err(Invalid::new(
                FieldCode::TooCommon,
                "this password is too common or too easy to guess; choose another",
            ));
        }
        guessable(raw, personal)?;
        Ok(NewPassword(SecretString::from(raw.to_owned())))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

/// zxcvbn's lowest score (0–4) accepted: 3 is "safely unguessable: moderate protection
/// from an offline attack" (about 10^8 guesses and more).
const MIN_SCORE: u8 = 3;
/// How much of a password zxcvbn reads (see `guessable`).
const ESTIMATED_CHARS: usize = 24;

/// Refuses what zxcvbn guesses early: words and names of its frequency lists (30,000
/// common passwords among them, from leaked sets; MIT-licensed, built into the crate, so
/// the check works offline), keyboard patterns, repeats, sequences, dates, leet spellings,
/// and the account's own email and name (`personal`). The reason names the weakness,
/// never the password.
fn guessable(raw: &str, personal: &[&str]) -> Result<(), Invalid> {
    // zxcvbn also takes each part of the address and the name.
    let mut inputs: Vec<&str> = personal.iter().copied().filter(|p| !p.is_empty()).collect();
    for p in personal {
        inputs.extend(p.split(['@', '.', ' ', '-', '_']).filter(|w| w.len() >= 3));
    }
    // Its matching grows faster than linearly with the length (a repeated walk of 128
    // characters takes it half a second): it reads the first `ESTIMATED_CHARS`, so a
    // longer password that starts weak is refused and one that starts strong is strong.
    let end = raw
        .char_indices()
        .nth(ESTIMATED_CHARS)
        .map_or(raw.len(), |(i, _)| i);
    let estimate = zxcvbn::zxcvbn(&raw[..end], &inputs);
    if u8::from(estimate.score()) >= MIN_SCORE {
        return Ok(());
    }
    let why = estimate
        .feedback()
        .and_then(|f| f.warning())
        .map(|w| w.to_string())
        .unwrap_or_else(|| "it follows a pattern guessed early".into());
    Err(Invalid::new(
        FieldCode::TooCommon,
        format!(
            "this password is too easy to guess ({}); a few unrelated words make a strong one",
            why.trim_end_matches('.')
        ),
    ))
}

fn is_common(raw: &str) -> bool {
    let lower = raw.to_lowercase();
    if COMMON.lines().any(|c| c.eq_ignore_ascii_case(raw)) {
        return true;
    }
    let mut distinct: Vec<char> = lower.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() <= 2 {
        return true; // "aaaaaaaaaaaa", "abababababab"
    }
    let core =
        lower.trim_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation() || c == ' ');
    if core.is_empty() {
        return true; // only digits and symbols
    }
    if GUESSABLE_BASES.contains(&core) {
        return true;
    }
    // Repetitions of a guessable word: "passwordpassword", "qwertyqwerty".
    GUESSABLE_BASES
        .iter()
        .any(|base| core.len() % base.len() == 0 && core == base.repeat(core.len() / base.len()))
}

/// The result of checking a password against a stored hash.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    Mismatch,
    /// The password is right; `needs_rehash` when the hash uses other parameters than the
    /// configured ones (rehashed on login).
    Match {
        needs_rehash: bool,
    },
}

#[derive(Clone)]
pub struct Passwords {
    params: Params,
    permits: Arc<Semaphore>,
    arena: Arc<Arena>,
    /// A real hash of a random password: unknown accounts are verified against it, so their
    /// timing matches that of a wrong password.
    dummy_hash: Arc<str>,
}

/// Argon2id's working memory (`memory_kib` KiB per hash), kept for the next hash instead of
/// freed. glibc leaves a freed buffer of that size in the arena of the thread that used it,
/// and the blocking pool has many threads: a burst of parallel sign-ins took resident memory
/// from 85 MB to 380–560 MB, and it stayed there. A hash holds one of the semaphore's
/// permits, so at most `concurrency` buffers ever exist.
struct Arena {
    free: Mutex<Vec<Vec<Block>>>,
    /// Buffers kept at most: the concurrency (a hash stored under a larger memory cost
    /// needs a larger one; the smallest goes).
    keep: usize,
    /// Buffers allocated since start (a test reads it).
    allocated: AtomicUsize,
}

impl Arena {
    /// A buffer of at least `blocks` blocks: a kept one when there is one.
    fn take(&self, blocks: usize) -> Vec<Block> {
        let kept = self.free.lock().ok().and_then(|mut free| {
            let at = free.iter().position(|b| b.len() >= blocks)?;
            Some(free.swap_remove(at))
        });
        kept.unwrap_or_else(|| {
            self.allocated.fetch_add(1, Ordering::Relaxed);
            vec![Block::default(); blocks]
        })
    }

    fn give_back(&self, buffer: Vec<Block>) {
        if let Ok(mut free) = self.free.lock() {
            free.push(buffer);
            if free.len() > self.keep
                && let Some(smallest) = (0..free.len()).min_by_key(|&i| free[i].len())
            {
                free.swap_remove(smallest);
            }
        }
    }

    /// Argon2 of `password` with `salt` under `params`, on a kept buffer.
    fn compute(
        &self,
        algorithm: Algorithm,
        version: Version,
        params: Params,
        password: &[u8],
        salt: &[u8],
    ) -> anyhow::Result<Output> {
        let length = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let mut buffer = self.take(params.block_count());
        let mut out = [0u8; Output::MAX_LENGTH];
        let out = out.get_mut(..length).context("Argon2 output too long")?;
        let result = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
            password,
            salt,
            out,
            &mut buffer,
        );
        self.give_back(buffer);
        result.map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
        Output::new(out).map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    }

    /// A PHC string of Argon2id (version 19) under `params` with a random salt.
    fn hash(&self, params: &Params, password: &[u8]) -> anyhow::Result<String> {
        let salt: [u8; 16] = rand::random();
        let salt = Salt::new(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        let output = self.compute(
            Algorithm::Argon2id,
            Version::V0x13,
            params.clone(),
            password,
            &salt,
        )?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(params).map_err(|e| anyhow::anyhow!("params: {e}"))?,
            salt: Some(salt),
            hash: Some(output),
        };
        Ok(hash.to_string())
    }

    /// Whether `password` gives `stored`'s output (compared in constant time by `Output`).
    fn matches(&self, password: &[u8], stored: &PasswordHash) -> bool {
        let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
            return false;
        };
        let (Ok(algorithm), Ok(params)) = (
            Algorithm::try_from(stored.algorithm.as_str()),
            Params::try_from(stored),
        ) else {
            return false;
        };
        let version = stored
            .version
            .map_or(Ok(Version::default()), Version::try_from);
        let Ok(version) = version else {
            return false;
        };
        self.compute(algorithm, version, params, password, salt)
            .is_ok_and(|computed| computed == *expected)
    }
}

impl Passwords {
    /// `concurrency` caps simultaneous hashes (each takes ~19 MiB and one core).
    pub fn new(
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
        concurrency: usize,
    ) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|e| anyhow::anyhow!("invalid Argon2 parameters: {e}"))?;
        let arena = Arena {
            free: Mutex::new(Vec::with_capacity(concurrency.max(1) + 1)),
            keep: concurrency.max(1),
            allocated: AtomicUsize::new(0),
        };
        let random: [u8; 24] = rand::random();
        let dummy = arena.hash(&params, &random)?;
        Ok(Passwords {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            arena: Arc::new(arena),
            dummy_hash: Arc::from(dummy),
        })
    }

    /// Argon2 working buffers allocated since start: at most the concurrency, however many
    /// hashes ran.
    pub fn buffers_allocated(&self) -> usize {
        self.arena.allocated.load(Ordering::Relaxed)
    }

    pub async fn hash(&self, password: &SecretString) -> anyhow::Result<String> {
        let _permit = self
            .permits
            .acquire()
            .await
            .context("hashing is shut down")?;
        let params = self.params.clone();
        let password = password.clone();
        let arena = self.arena.clone();
        tokio::task::spawn_blocking(move || {
            arena.hash(&params, password.expose_secret().as_bytes())
        })
        .await
        .context("the hashing task failed")?
    }

    /// Verifies `password` against `stored` (or against the dummy hash when there is no
    /// account, or its hash is not a PHC string, as for demo accounts).
    pub async fn verify(
        &self,
        password: &SecretString,
        stored: Option<&str>,
    ) -> anyhow::Result<Verification> {
        let _permit = self
            .permits
            .acquire()
            .await
            .context("hashing is shut down")?;
        let real = stored
            .filter(|s| s.starts_with("$argon2"))
            .map(str::to_owned);
        let target = real.clone().unwrap_or_else(|| self.dummy_hash.to_string());
        let password = password.clone();
        let params = self.params.clone();
        let arena = self.arena.clone();
        tokio::task::spawn_blocking(move || {
            let Ok(parsed) = PasswordHash::new(&target) else {
                return Ok(Verification::Mismatch);
            };
            let ok = arena.matches(password.expose_secret().as_bytes(), &parsed);
            if !ok || real.is_none() {
                return Ok(Verification::Mismatch);
            }
            let current = Params::try_from(&parsed).ok();
            let needs_rehash = parsed.algorithm.as_str() != "argon2id"
                || current.is_none_or(|p| {
                    p.m_cost() != params.m_cost()
                        || p.t_cost() != params.t_cost()
                        || p.p_cost() != params.p_cost()
                });
            Ok(Verification::Match { needs_rehash })
        })
        .await
        .context("the verification task failed")?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guessable_passwords_are_refused_with_a_reason_that_does_not_echo_them() {
        for (weak, personal) in [
            ("1qaz2wsx3edc4rfv", &[][..]),
            ("iloveyou12345", &[]),
            ("P@ssw0rd12345", &[]),
            ("abcdefghijklmnop", &[]),
            ("JaneDoeJaneDoe", &["jane.doe@example.com", "Jane Doe"][..]),
        ] {
            let refused = NewPassword::parse(weak, personal).err();
            let refused = refused.unwrap_or_else(|| panic!("{weak} was accepted"));
            assert_eq!(refused.code, "too_common", "{weak}");
            assert!(!refused.message.contains(weak), "{}", refused.message);
        }
        // What the documentation and tests use: passphrases of unrelated words.
        for strong in [
            "a calm river at dawn",
            "contract checks at dawn",
            "a long and private passphrase",
            "the tide comes in twice a day",
            "a lantern by the old mill",
            "ñandú-corre-rápido",
        ] {
            assert!(
                NewPassword::parse(strong, &["a@example.com"]).is_ok(),
                "{strong}"
            );
        }
    }

    #[test]
    fn policy() {
        assert_eq!(
            NewPassword::parse("short", &[]).err().unwrap().code,
            "too_short"
        );
        assert_eq!(
            NewPassword::parse(&"x".repeat(11), &[]).err().unwrap().code,
            "too_short"
        );
        let long = "seven quiet harbours ".repeat(7);
        assert!(NewPassword::parse(&long[..128], &[]).is_ok());
        assert_eq!(
            NewPassword::parse(&"ab1".repeat(43), &[])
                .err()
                .unwrap()
                .code,
            "too_long"
        );
        // Non-ASCII counts characters, not bytes.
        assert!(NewPassword::parse("ñandú-corre-rápido", &[]).is_ok());
        for common in [
            "password1234",
            "Password1234",
            "aaaaaaaaaaaa",
            "123456789012",
            "qwertyqwerty",
            "football2026!",
            "passwordpassword",
        ] {
            assert_eq!(
                NewPassword::parse(common, &[]).err().unwrap().code,
                "too_common",
                "{common}"
            );
        }
        assert_eq!(
            NewPassword::parse("jane@example.com", &["jane@example.com"])
                .err()
                .unwrap()
                .code,
            "too_common"
        );
        assert!(NewPassword::parse("correct horse battery", &[]).is_ok());
    }

    #[tokio::test]
    async fn hashes_verify_and_detect_old_parameters() {
        let current = Passwords::new(19456, 2, 1, 2).unwrap();
        let secret = SecretString::from("a long enough secret".to_owned());
        let hash = current.hash(&secret).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert_eq!(
            current.verify(&secret, Some(&hash)).await.unwrap(),
            Verification::Match {
                needs_rehash: false
            }
        );
        let wrong = SecretString::from("another long secret".to_owned());
        assert_eq!(
            current.verify(&wrong, Some(&hash)).await.unwrap(),
            Verification::Mismatch
        );
        assert_eq!(
            current.verify(&secret, None).await.unwrap(),
            Verification::Mismatch
        );
        assert_eq!(
            current.verify(&secret, Some("!demo")).await.unwrap(),
            Verification::Mismatch
        );

        let stronger = Passwords::new(19456, 3, 1, 2).unwrap();
        assert_eq!(
            stronger.verify(&secret, Some(&hash)).await.unwrap(),
            Verification::Match { needs_rehash: true }
        );

        // A hash made by the argon2 crate's own hasher (as stored before the buffers were
        // kept) verifies, and ours verifies with it.
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::default()
            .hash_password(b"a long enough secret")
            .unwrap();
        assert_eq!(
            current
                .verify(&secret, Some(&theirs.to_string()))
                .await
                .unwrap(),
            Verification::Match {
                needs_rehash: false
            }
        );
        let ours = PasswordHash::new(&hash).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"a long enough secret", &ours)
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_burst_reuses_the_working_memory() {
        let passwords = Passwords::new(19456, 2, 1, 2).unwrap();
        let secret = SecretString::from("a long enough secret".to_owned());
        let hash = passwords.hash(&secret).await.unwrap();
        let checks = (0..24).map(|_| passwords.verify(&secret, Some(&hash)));
        for result in futures_util::future::join_all(checks).await {
            assert!(matches!(result.unwrap(), Verification::Match { .. }));
        }
        assert!(
            passwords.buffers_allocated() <= 2,
            "{} buffers for 26 hashes at 2 at once",
            passwords.buffers_allocated()
        );
    }
}
