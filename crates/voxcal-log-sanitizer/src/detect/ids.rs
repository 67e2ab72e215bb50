//! German personal identifiers: the tax identification number
//! (Steuer-IdNr) and the social insurance number (SV-Nummer).

use super::{is_word, numeric_continues};

// ---------------------------------------------------------------- tax id

/// The ISO 7064 MOD 11,10 check digit over `d` (the first ten digits of a
/// tax id).
pub(crate) fn tax_id_check_digit(d: &[u8]) -> u8 {
    let mut product = 10u8;
    for &x in d {
        let mut sum = (x + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    let check = 11 - product;
    if check == 10 {
        0
    } else {
        check
    }
}

/// Whether the eleven digits `d` form a valid tax id: no leading zero, in
/// the first ten digits exactly one digit occurs two or three times and no
/// other more than once, and the check digit holds.
pub(crate) fn tax_id_valid(d: &[u8; 11]) -> bool {
    if d[0] == 0 {
        return false;
    }
    let mut counts = [0u8; 10];
    for &x in &d[..10] {
        counts[usize::from(x)] += 1;
    }
    let repeated = counts.iter().filter(|&&c| c >= 2).count();
    let allowed = counts.iter().all(|&c| c <= 3);
    repeated == 1 && allowed && tax_id_check_digit(&d[..10]) == d[10]
}

/// A tax id shape starting at the digit `start`: eleven digits in one run
/// or grouped `12 345 678 995`, not followed by more of a number. Returns
/// its end and its digits.
pub(crate) fn tax_id_shape(b: &[u8], start: usize) -> Option<(usize, [u8; 11])> {
    let run = |p: usize| {
        b[p.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let mut d = [0u8; 11];
    let first = run(start);
    let end = if first == 11 {
        for (k, x) in d.iter_mut().enumerate() {
            *x = b[start + k] - b'0';
        }
        start + 11
    } else if first == 2 {
        let mut p = start;
        let mut k = 0;
        for (g, len) in [2usize, 3, 3, 3].into_iter().enumerate() {
            if g > 0 {
                if b.get(p) != Some(&b' ') {
                    return None;
                }
                p += 1;
            }
            if run(p) != len {
                return None;
            }
            for _ in 0..len {
                d[k] = b[p] - b'0';
                k += 1;
                p += 1;
            }
        }
        p
    } else {
        return None;
    };
    if numeric_continues(b, end) {
        return None;
    }
    Some((end, d))
}

/// A valid tax id (see [`tax_id_valid`]) starting at `start`.
pub(crate) fn tax_id_end(b: &[u8], start: usize) -> Option<usize> {
    let (end, d) = tax_id_shape(b, start)?;
    tax_id_valid(&d).then_some(end)
}

// ------------------------------------------------------ social insurance

/// The check digit of a social insurance number over its first eleven
/// characters (`d`: area, birth date, the letter's alphabet position as two
/// digits, serial: twelve digits).
pub(crate) fn sv_check_digit(d: &[u8; 12]) -> u8 {
    const WEIGHTS: [u8; 12] = [2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1];
    let sum: u32 = d
        .iter()
        .zip(WEIGHTS)
        .map(|(&x, w)| {
            let p = x * w;
            u32::from(p / 10 + p % 10)
        })
        .sum();
    (sum % 10) as u8
}

/// A social insurance number shape starting at the digit `start`:
/// `65170839J003` or with blanks between its parts (`65 170839 J 00 3`),
/// with a plausible birth date. Returns its end and whether the check digit
/// holds.
pub(crate) fn sv_shape(b: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut p = start;
    let mut d = [0u8; 12];
    let mut k = 0;
    let digits = |p: &mut usize, len: usize, d: &mut [u8; 12], k: &mut usize| -> Option<()> {
        for _ in 0..len {
            let c = *b.get(*p)?;
            if !c.is_ascii_digit() {
                return None;
            }
            d[*k] = c - b'0';
            *k += 1;
            *p += 1;
        }
        Some(())
    };
    let blank = |p: &mut usize| {
        if b.get(*p) == Some(&b' ') {
            *p += 1;
        }
    };
    digits(&mut p, 2, &mut d, &mut k)?;
    blank(&mut p);
    digits(&mut p, 6, &mut d, &mut k)?;
    blank(&mut p);
    let letter = *b.get(p)?;
    if !letter.is_ascii_uppercase() {
        return None;
    }
    let pos = letter - b'A' + 1;
    d[k] = pos / 10;
    d[k + 1] = pos % 10;
    k += 2;
    p += 1;
    blank(&mut p);
    digits(&mut p, 2, &mut d, &mut k)?;
    blank(&mut p);
    let check = *b.get(p)?;
    if !check.is_ascii_digit() {
        return None;
    }
    p += 1;
    if b.get(p).is_some_and(|&c| is_word(c)) || numeric_continues(b, p) {
        return None;
    }
    let day = d[2] * 10 + d[3];
    let month = d[4] * 10 + d[5];
    if !(1..=12).contains(&month) || !(1..=31).contains(&(day % 50)) {
        return None;
    }
    Some((p, sv_check_digit(&d) == check - b'0'))
}

/// A social insurance number with a valid check digit starting at `start`.
pub(crate) fn sv_end(b: &[u8], start: usize) -> Option<usize> {
    match sv_shape(b, start)? {
        (end, true) => Some(end),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_social_insurance_number_checks() {
        assert_eq!(sv_end(b"65 170839 J 00 3", 0), Some(16));
        assert_eq!(sv_end(b"65170839J003", 0), Some(12));
        assert_eq!(sv_end(b"65170839J004", 0), None);
        assert_eq!(sv_shape(b"65170839J004", 0), Some((12, false)));
        assert_eq!(sv_shape(b"65171339J003", 0), None, "month 13");
    }

    #[test]
    fn tax_id_check_digit_and_distribution() {
        // 8 6 0 9 5 1 7 4 2 8: the 8 twice, the 3 missing.
        let head = [8, 6, 0, 9, 5, 1, 7, 4, 2, 8];
        let check = tax_id_check_digit(&head);
        let mut d = [0u8; 11];
        d[..10].copy_from_slice(&head);
        d[10] = check;
        assert!(tax_id_valid(&d));
        d[10] = (check + 1) % 10;
        assert!(!tax_id_valid(&d));
        // All ten digits distinct: not a tax id, whatever the check digit.
        let distinct = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0];
        let mut e = [0u8; 11];
        e[..10].copy_from_slice(&distinct);
        e[10] = tax_id_check_digit(&distinct);
        assert!(!tax_id_valid(&e));
        assert_eq!(tax_id_shape(b"12 345 678 995", 0).map(|x| x.0), Some(14));
        assert_eq!(tax_id_shape(b"123456789950", 0), None);
        assert_eq!(tax_id_shape(b"12345678995.5", 0), None);
    }
}
