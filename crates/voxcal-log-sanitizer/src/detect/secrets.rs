//! Secret detectors: credentials after `Bearer`/`Basic`, private-key blocks,
//! known API-key prefixes, and JWTs.

use super::find;

/// A credential after `Bearer `/`Basic `.
pub(crate) fn credential_after(b: &[u8], end: usize) -> Option<(usize, usize)> {
    let mut s = end;
    while b.get(s) == Some(&b' ') {
        s += 1;
    }
    let e = s + b[s..]
        .iter()
        .take_while(|&&c| {
            c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'~' | b'+' | b'/' | b'=' | b'-')
        })
        .count();
    (e - s >= 8).then_some((s, e))
}

/// The end of a private-key block whose `BEGIN` word ends at `end`.
pub(crate) fn private_key_end(b: &[u8], end: usize) -> Option<usize> {
    let header_end = end + find(&b[end..], 0, b"-----");
    if !b[end..header_end].ends_with(b"PRIVATE KEY") {
        return None;
    }
    let footer = find(b, header_end, b"-----END");
    if footer == b.len() {
        return Some(b.len());
    }
    let close = find(b, footer + 8, b"-----");
    Some((close + 5).min(b.len()))
}

/// Known key formats by prefix, starting at word start `i` (word ends at `end`).
pub(crate) fn secret_prefix_end(b: &[u8], i: usize, end: usize) -> Option<usize> {
    let w = &b[i..end];
    let dashed_end = || {
        i + b[i..]
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
            .count()
    };
    let rest_after = |prefix: &str, min: usize| -> Option<usize> {
        (w.starts_with(prefix.as_bytes()) && w.len() >= prefix.len() + min).then_some(end)
    };
    match w[0] {
        b'e' if w.starts_with(b"eyJ") => jwt_end(b, i),
        b'c' => rest_after("cal_live_", 8).or_else(|| rest_after("cal_test_", 8)),
        b's' => rest_after("sk_live_", 8).or_else(|| rest_after("sk_test_", 8)),
        b'r' => rest_after("rk_live_", 8).or_else(|| rest_after("rk_test_", 8)),
        b'w' => rest_after("whsec_", 16),
        b'A' => {
            if (w.starts_with(b"AKIA") || w.starts_with(b"ASIA"))
                && w.len() == 20
                && w.iter()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            {
                Some(end)
            } else if w.starts_with(b"AIza") {
                let e = dashed_end();
                (e - i >= 35).then_some(e)
            } else {
                None
            }
        }
        b'g' => {
            let gh = w.len() >= 4
                && w.starts_with(b"gh")
                && matches!(w[2], b'p' | b'o' | b'u' | b's' | b'r')
                && w[3] == b'_';
            if gh && w.len() >= 4 + 30 {
                Some(end)
            } else {
                rest_after("github_pat_", 20)
            }
        }
        b'x' => {
            let slack = w.len() == 4 && w.starts_with(b"xox") && b.get(end) == Some(&b'-');
            if slack {
                let e = dashed_end();
                (e - i >= 15).then_some(e)
            } else {
                None
            }
        }
        b'k' => {
            let ok = w.starts_with(b"key_")
                && w.len() >= 4 + 16
                && w[4..].iter().all(u8::is_ascii_alphanumeric)
                && w[4..].iter().any(u8::is_ascii_digit);
            ok.then_some(end)
        }
        _ => None,
    }
}

/// `eyJ…\.eyJ…\.…` (header, payload, optional signature).
fn jwt_end(b: &[u8], i: usize) -> Option<usize> {
    let seg = |p: usize| {
        b[p..]
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
            .count()
    };
    let h = seg(i);
    let p = i + h;
    if h < 10 || b.get(p) != Some(&b'.') || !b[p + 1..].starts_with(b"eyJ") {
        return None;
    }
    let pl = seg(p + 1);
    let q = p + 1 + pl;
    if b.get(q) != Some(&b'.') {
        return Some(q);
    }
    Some(q + 1 + seg(q + 1))
}
