//! Lower-case hexadecimal, the one way bytes are written as text here (ETags, cursors'
//! fingerprints, key ids, object names): a table lookup per byte, since object names are
//! written for every photo of every search page.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

pub fn hex(bytes: &[u8]) -> String {
    let mut out = vec![0; bytes.len() * 2];
    hex_into(bytes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// `bytes` in hexadecimal, written into the first twice as many bytes of `out` (a buffer on
/// the stack, for a name written straight into a response), as a string.
pub fn hex_into<'a>(bytes: &[u8], out: &'a mut [u8]) -> &'a str {
    for (&b, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0x0f)];
    }
    let written = (bytes.len() * 2).min(out.len() / 2 * 2);
    std::str::from_utf8(&out[..written]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn bytes_are_written_as_two_lower_case_digits_each() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(super::hex(&[]), "");
        let mut buffer = [0u8; 6];
        assert_eq!(super::hex_into(&[0xa5, 0x01, 0xff], &mut buffer), "a501ff");
        // A buffer too short for every byte takes the ones it has room for.
        assert_eq!(
            super::hex_into(&[0xa5, 0x01, 0xff], &mut buffer[..5]),
            "a501"
        );
    }
}
