//! Record keys for posts: TIDs (timestamp identifiers) derived from
//! Plaza's idempotency key.
//!
//! A TID (atproto spec "Timestamp Identifiers") is a 64-bit integer written
//! as 13 characters of base32-sortable (`234567abcdefghijklmnopqrstuvwxyz`):
//! the top bit is 0, the next 53 bits are microseconds since the Unix epoch,
//! the last 10 bits a "clock identifier". `app.bsky.feed.post` records are
//! keyed by TID, and the PDS refuses any other key.
//!
//! Deriving the key from the idempotency key makes a publish idempotent:
//! the same key always names the same record, so a resend finds it there
//! instead of making a second post, and `find_published` is one read.
//! The spec says TIDs should not be relied on for their time; Bluesky's
//! AppView orders posts by `createdAt`, not by key.

use sha2::{Digest, Sha256};

/// The base32-sortable alphabet.
const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// 2023-01-01T00:00:00Z in microseconds: derived timestamps start here,
/// so they read as plausible dates (up to 2058) to tools that decode them.
const EPOCH_US: u64 = 1_672_531_200_000_000;

/// The span derived timestamps fall in: 2^50 µs, about 35.7 years.
const SPAN_BITS: u32 = 50;

/// The TID naming the post published under `idempotency_key`.
pub fn for_key(idempotency_key: &str) -> String {
    let digest = Sha256::digest(format!("plaza-bluesky-post:{idempotency_key}").as_bytes());
    let mut first = [0_u8; 8];
    first.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
    let bits = u64::from_be_bytes(first);
    let micros = EPOCH_US + (bits >> (64 - SPAN_BITS));
    let clock_id = bits & 0x3ff;
    encode((micros << 10) | clock_id)
}

/// A TID for the integer `value` (its top bit must be 0).
pub fn encode(value: u64) -> String {
    (0..13)
        .rev()
        .map(|n| {
            let digit = (value >> (n * 5)) & 0x1f;
            let index = usize::try_from(digit).unwrap_or_default();
            char::from(ALPHABET.get(index).copied().unwrap_or(b'2'))
        })
        .collect()
}

/// Whether `text` is TID syntax: 13 characters of the alphabet, the first
/// one of `234567abcdefghij` (the top bit is 0).
pub fn is_valid(text: &str) -> bool {
    text.len() == 13
        && text.bytes().all(|b| ALPHABET.contains(&b))
        && text
            .bytes()
            .next()
            .is_some_and(|b| b"234567abcdefghij".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_the_spec() {
        assert_eq!(encode(0), "2222222222222");
        // The spec's example decodes to this integer.
        let example = "3jzfcijpj2z2a";
        let value = example.bytes().fold(0_u64, |acc, b| {
            (acc << 5) | ALPHABET.iter().position(|a| *a == b).unwrap() as u64
        });
        assert_eq!(encode(value), example);
        assert!(is_valid(example));
    }

    #[test]
    fn keys_give_stable_valid_distinct_tids() {
        let a = for_key("plaza-post-1-channel-1");
        assert_eq!(a, for_key("plaza-post-1-channel-1"));
        assert_ne!(a, for_key("plaza-post-1-channel-2"));
        for key in ["", "x", "plaza-0190-abc", "ünïcödé 🎉"] {
            let tid = for_key(key);
            assert!(is_valid(&tid), "{key}: {tid}");
        }
    }

    #[test]
    fn derived_times_are_plausible_dates() {
        for key in ["a", "b", "c", "d"] {
            let tid = for_key(key);
            let value = tid.bytes().fold(0_u64, |acc, b| {
                (acc << 5) | ALPHABET.iter().position(|a| *a == b).unwrap() as u64
            });
            let micros = value >> 10;
            assert!((EPOCH_US..EPOCH_US + (1 << SPAN_BITS)).contains(&micros));
        }
    }

    #[test]
    fn validity_follows_the_syntax() {
        assert!(!is_valid("kzzzzzzzzzzzz"), "top bit set");
        assert!(!is_valid("3jzfcijpj2z2"), "too short");
        assert!(!is_valid("3jzfcijpj2z2A"), "upper case");
        assert!(!is_valid("3jzfcijpj2z21"), "1 is not in the alphabet");
    }
}
