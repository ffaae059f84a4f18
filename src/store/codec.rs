//! Compact binary encoding of the store's values: LEB128 varints, zig-zag signed integers,
//! length-prefixed strings. Every record of the store is written and read through here, so a
//! malformed value is reported as corruption instead of being misread.
//!
//! This module never touches sled and never panics on bad input: a truncated or garbled value
//! is a [`DecodeError`].

/// A stored value could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed stored value: {0}")]
pub(super) struct DecodeError(pub &'static str);

pub(super) fn put_u(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(super) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub(super) fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

pub(super) fn put_i(out: &mut Vec<u8>, v: i64) {
    put_u(out, zigzag(v));
}

pub(super) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u(out, b.len() as u64);
    out.extend_from_slice(b);
}

pub(super) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

pub(super) fn put_f64(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_bits().to_be_bytes());
}

pub(super) fn put_opt_i(out: &mut Vec<u8>, v: Option<i64>) {
    match v {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            put_i(out, v);
        }
    }
}

pub(super) fn put_opt_str(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            put_str(out, v);
        }
    }
}

/// Reads values back in the order they were put.
pub(super) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub(super) fn u(&mut self) -> Result<u64, DecodeError> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or(DecodeError("truncated varint"))?;
            self.pos += 1;
            if shift >= 64 {
                return Err(DecodeError("varint too long"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    pub(super) fn i(&mut self) -> Result<i64, DecodeError> {
        self.u().map(unzigzag)
    }

    pub(super) fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self.buf.get(self.pos).ok_or(DecodeError("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    pub(super) fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = usize::try_from(self.u()?).map_err(|_| DecodeError("length too large"))?;
        let end = self
            .pos
            .checked_add(len)
            .filter(|end| *end <= self.buf.len())
            .ok_or(DecodeError("truncated bytes"))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    pub(super) fn string(&mut self) -> Result<String, DecodeError> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError("invalid UTF-8 in string"))
    }

    pub(super) fn f64(&mut self) -> Result<f64, DecodeError> {
        let end = self
            .pos
            .checked_add(8)
            .filter(|end| *end <= self.buf.len())
            .ok_or(DecodeError("truncated float"))?;
        let mut raw = [0u8; 8];
        raw.copy_from_slice(&self.buf[self.pos..end]);
        self.pos = end;
        Ok(f64::from_bits(u64::from_be_bytes(raw)))
    }

    pub(super) fn opt_i(&mut self) -> Result<Option<i64>, DecodeError> {
        match self.byte()? {
            0 => Ok(None),
            1 => self.i().map(Some),
            _ => Err(DecodeError("bad option tag")),
        }
    }

    pub(super) fn opt_str(&mut self) -> Result<Option<String>, DecodeError> {
        match self.byte()? {
            0 => Ok(None),
            1 => self.string().map(Some),
            _ => Err(DecodeError("bad option tag")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_the_edges() {
        for v in [0i64, 1, -1, 63, -64, 64, i64::MAX, i64::MIN, 1 << 40] {
            let mut out = Vec::new();
            put_i(&mut out, v);
            assert_eq!(Reader::new(&out).i().unwrap(), v);
        }
        let mut out = Vec::new();
        put_u(&mut out, 127);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        assert!(Reader::new(&[0x80]).u().is_err());
        assert!(Reader::new(&[5, b'a']).string().is_err());
        assert!(Reader::new(&[1, 2, 3]).f64().is_err());
    }
}
