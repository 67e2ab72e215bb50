//! Redis Cluster key slots.

/// How many hash slots a Redis Cluster has.
pub const SLOTS: u16 = 16_384;

/// The part of `key` that decides its slot: the text between the first `{`
/// and the next `}` when it is not empty, otherwise the whole key.
///
/// ```
/// use voxcal_core::redis::hash_tag;
/// assert_eq!(hash_tag(b"rl:{call_9}:m"), b"call_9");
/// assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
/// ```
pub fn hash_tag(key: &[u8]) -> &[u8] {
    key.iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            let close = rest.iter().position(|&b| b == b'}')?;
            (close > 0).then(|| &rest[..close])
        })
        .unwrap_or(key)
}

/// The Redis Cluster hash slot of `key`: CRC16 (XMODEM) of its
/// [`hash_tag`], modulo [`SLOTS`], as `CLUSTER KEYSLOT` answers.
///
/// ```
/// use voxcal_core::redis::key_slot;
/// assert_eq!(key_slot(b"foo"), 12182);
/// assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
/// ```
pub fn key_slot(key: &[u8]) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(hash_tag(key)) % SLOTS
}

#[cfg(test)]
mod tests {
    use super::key_slot;

    #[test]
    fn key_slots_follow_the_cluster_spec() {
        // The CRC16/XMODEM check value, and `CLUSTER KEYSLOT` answers.
        assert_eq!(
            crc16::State::<crc16::XMODEM>::calculate(b"123456789"),
            0x31c3
        );
        assert_eq!(key_slot(b"123456789"), 0x31c3);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        // The hash tag decides; an empty tag hashes the whole key.
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"rl:{call_9}:m"), key_slot(b"call_9"));
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
        assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
        assert_ne!(key_slot(b"foo{}{bar}"), key_slot(b"bar"));
        assert_eq!(key_slot(b""), 0);
    }

    /// The same answer as a real Cluster node for arbitrary keys.
    #[test]
    fn key_slots_match_a_real_cluster() {
        let cluster = testkit::RedisCluster::start();
        let node = &cluster.nodes()[0];
        let mut keys: Vec<String> = vec!["rl:{}:m".into(), "{{}}".into(), "a}{b}".into()];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for n in 0..300 {
            // A small xorshift: ids with braces, digits and non-ASCII text.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let alphabet = ['a', 'Z', '0', '{', '}', ':', '_', 'ä', '€', ' '];
            let id: String = (0..(seed % 12) as usize)
                .map(|i| alphabet[((seed >> (i * 4)) % 10) as usize])
                .collect();
            keys.push(format!("rl:{{{id}}}:m{n}"));
        }
        for key in &keys {
            let answer = node.command(&["CLUSTER", "KEYSLOT", key]).unwrap();
            assert_eq!(
                answer,
                testkit::resp::Reply::Integer(i64::from(key_slot(key.as_bytes()))),
                "{key}"
            );
        }
    }
}
