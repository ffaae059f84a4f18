//! The CSV and JSON forms of samples that `import` reads and `export` writes.
//!
//! CSV columns are `entity,timestamp,metric,value`. Import accepts RFC 3339 or unix-seconds
//! timestamps and validates every row before anything is stored; export writes RFC 3339 UTC
//! (`Z`) and the shortest decimal that reads back as the same f64, so export → import →
//! export is byte-for-byte identical. This module parses and formats only: it never opens the
//! store.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};

use crate::model::{EntityId, Metric, Sample, UnixSeconds};

/// The header line of the CSV form.
pub const CSV_HEADER: &str = "entity,timestamp,metric,value";

/// A row of an import file that cannot be stored; displays as `FILE:LINE: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct ImportError {
    pub file: PathBuf,
    pub line: u64,
    pub message: String,
}

/// Parses a timestamp as users write it: unix seconds or RFC 3339 (any offset).
pub fn parse_time(raw: &str) -> Option<UnixSeconds> {
    let raw = raw.trim();
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return raw.parse().ok();
    }
    DateTime::parse_from_rfc3339(raw)
        .ok()
        .map(|t| t.timestamp())
}

/// RFC 3339 in UTC with a `Z`, whole seconds; unix seconds when out of chrono's range.
pub fn format_time(t: UnixSeconds) -> String {
    match DateTime::<Utc>::from_timestamp(t, 0) {
        Some(d) => d.to_rfc3339_opts(SecondsFormat::Secs, true),
        None => t.to_string(),
    }
}

/// The shortest decimal that parses back to exactly `v` (`5`, `0.1`, `1e300`).
pub fn format_value(v: f64) -> String {
    // Rust's Display for f64 is shortest-round-trip.
    format!("{v}")
}

/// Parses a whole import file held in memory (tests, benches). Every row is checked before
/// any is returned, and the first bad one is reported with its line number.
pub fn parse_csv(file: &Path, data: &[u8]) -> Result<Vec<Sample>, ImportError> {
    CsvSamples::new(file, data)?.collect()
}

/// The samples of an import file read as a stream, one row at a time: a file of any size is
/// read in constant memory. Yields the first bad row as an error, then nothing more.
pub struct CsvSamples<R: std::io::Read> {
    file: PathBuf,
    reader: csv::Reader<R>,
    record: csv::ByteRecord,
    header_seen: bool,
    done: bool,
    last_entity: Option<(Vec<u8>, EntityId)>,
    last_metric: Metric,
}

impl<R: std::io::BufRead> CsvSamples<R> {
    /// Starts reading `input` (the contents of `file`, which names it in messages); a UTF-8
    /// byte-order mark is skipped.
    pub fn new(file: &Path, mut input: R) -> Result<Self, ImportError> {
        let head = input.fill_buf().map_err(|e| ImportError {
            file: file.to_path_buf(),
            line: 1,
            message: format!("cannot read: {e}"),
        })?;
        if head.starts_with(b"\xEF\xBB\xBF") {
            input.consume(3);
        }
        Ok(CsvSamples {
            file: file.to_path_buf(),
            reader: csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(input),
            record: csv::ByteRecord::new(),
            header_seen: false,
            done: false,
            last_entity: None,
            last_metric: Metric::VIEWS,
        })
    }
}

impl<R: std::io::Read> CsvSamples<R> {
    fn err(&self, line: u64, message: String) -> ImportError {
        ImportError {
            file: self.file.clone(),
            line,
            message,
        }
    }

    /// The next sample, `None` at the end of the file.
    fn next_sample(&mut self) -> Result<Option<Sample>, ImportError> {
        loop {
            let line_before = self.reader.position().line();
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| self.err(line_before, format!("unreadable CSV: {e}")))?;
            if !more {
                if !self.header_seen {
                    return Err(
                        self.err(1, format!("empty file: expected the header `{CSV_HEADER}`"))
                    );
                }
                return Ok(None);
            }
            let line = self.record.position().map_or(line_before, |p| p.line());
            if !self.header_seen {
                self.header_seen = true;
                let header: Vec<String> = self
                    .record
                    .iter()
                    .map(|f| String::from_utf8_lossy(f).trim().to_string())
                    .collect();
                if header.join(",") != CSV_HEADER {
                    return Err(self.err(
                        line,
                        format!(
                            "expected the header `{CSV_HEADER}`, found `{}`",
                            quote(&header.join(","))
                        ),
                    ));
                }
                continue;
            }
            let record = &self.record;
            if record.len() == 1 && record.get(0).is_some_and(|f| f.trim_ascii().is_empty()) {
                continue; // blank line
            }
            return self.row(line).map(Some);
        }
    }

    /// Checks the record just read, at `line`.
    fn row(&mut self, line: u64) -> Result<Sample, ImportError> {
        let record = &self.record;
        let err = |message: String| ImportError {
            file: self.file.clone(),
            line,
            message,
        };
        if record.len() != 4 {
            return Err(err(format!(
                "expected 4 columns (entity,timestamp,metric,value), found {}",
                record.len()
            )));
        }
        let field = |i: usize| -> Result<&str, ImportError> {
            std::str::from_utf8(record.get(i).unwrap_or_default())
                .map_err(|_| err(format!("column {} is not valid UTF-8", i + 1)))
        };
        let raw_entity = record.get(0).unwrap_or_default();
        let entity = match &self.last_entity {
            Some((raw, id)) if raw.as_slice() == raw_entity => id.clone(),
            _ => {
                let id = EntityId::parse(field(0)?).map_err(|e| err(e.to_string()))?;
                self.last_entity = Some((raw_entity.to_vec(), id.clone()));
                id
            }
        };
        let raw_time = field(1)?;
        let at = parse_time(raw_time).ok_or_else(|| {
            err(format!(
                "timestamp `{}` is neither RFC 3339 nor unix seconds",
                quote(raw_time)
            ))
        })?;
        let metric = field(2)?.trim();
        if self.last_metric != metric {
            self.last_metric = Metric::new(metric).map_err(|e| err(e.to_string()))?;
        }
        let raw_value = field(3)?.trim();
        let value: f64 = raw_value
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| {
                err(format!(
                    "value `{}` is not a finite number",
                    quote(raw_value)
                ))
            })?;
        if value < 0.0 && self.last_metric.is_counter() {
            return Err(err(format!(
                "value {value} is below zero, but `{}` is a counter: fix or remove the row",
                self.last_metric
            )));
        }
        Ok(Sample {
            entity,
            at,
            metric: self.last_metric.clone(),
            value,
        })
    }
}

impl<R: std::io::Read> Iterator for CsvSamples<R> {
    type Item = Result<Sample, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.next_sample();
        if !matches!(next, Ok(Some(_))) {
            self.done = true;
        }
        next.transpose()
    }
}

/// A value from the file as a message shows it: at most 80 characters, control characters
/// escaped, so a 50 MB field or a NUL never reaches the terminal raw.
fn quote(raw: &str) -> String {
    const MOST: usize = 80;
    let mut out: String = raw
        .chars()
        .take(MOST)
        .flat_map(char::escape_debug)
        .collect();
    if raw.chars().nth(MOST).is_some() {
        out.push('…');
    }
    out
}

/// Where `export` writes samples, one at a time, in one of its formats.
pub trait SampleOut {
    fn write(&mut self, s: &Sample) -> std::io::Result<()>;
    /// Ends the output (the JSON array's bracket) and flushes it.
    fn finish(self) -> std::io::Result<()>;
}

/// Writes samples as CSV, header first.
pub struct CsvOut<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> CsvOut<W> {
    pub fn new(w: W) -> std::io::Result<Self> {
        let mut inner = csv::WriterBuilder::new().has_headers(false).from_writer(w);
        inner.write_record(CSV_HEADER.split(','))?;
        Ok(Self { inner })
    }
}

impl<W: Write> SampleOut for CsvOut<W> {
    fn write(&mut self, s: &Sample) -> std::io::Result<()> {
        self.inner
            .write_record([
                s.entity.as_str(),
                &format_time(s.at),
                &s.metric,
                &format_value(s.value),
            ])
            .map_err(|e| match e.into_kind() {
                // The reader went away (`| head`): the caller tells it from other failures.
                csv::ErrorKind::Io(io) => io,
                other => std::io::Error::other(format!("{other:?}")),
            })
    }

    fn finish(mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes samples as one JSON array of `{"entity","timestamp","metric","value"}` objects.
pub struct JsonOut<W: Write> {
    inner: W,
    count: u64,
}

impl<W: Write> JsonOut<W> {
    pub fn new(mut w: W) -> std::io::Result<Self> {
        w.write_all(b"[")?;
        Ok(Self { inner: w, count: 0 })
    }
}

impl<W: Write> SampleOut for JsonOut<W> {
    fn write(&mut self, s: &Sample) -> std::io::Result<()> {
        let obj = serde_json::json!({
            "entity": s.entity.as_str(),
            "timestamp": format_time(s.at),
            "metric": s.metric,
            "value": s.value,
        });
        self.inner
            .write_all(if self.count == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut self.inner, &obj)?;
        self.count += 1;
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<()> {
        self.inner.write_all(b"\n]\n")?;
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Sample>, ImportError> {
        parse_csv(Path::new("in.csv"), text.as_bytes())
    }

    #[test]
    fn both_timestamp_forms_are_read() {
        let s = parse(
            "entity,timestamp,metric,value\n\
             tiktok:#BienEtre,2026-11-20T06:00:00+01:00,views,12\n\
             tiktok:@tam,1700000000,followers,3.5\n",
        )
        .unwrap();
        assert_eq!(s[0].entity.as_str(), "tiktok:#bienetre");
        assert_eq!(s[0].at, parse_time("2026-11-20T05:00:00Z").unwrap());
        assert_eq!(s[1].at, 1_700_000_000);
        assert_eq!(s[1].value, 3.5);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let head = "entity,timestamp,metric,value\ntiktok:#a,0,views,1\n";
        let cases = [
            ("tiktok:#a,yesterday,views,1\n", "timestamp"),
            ("skincare,0,views,1\n", "PLATFORM"),
            ("tiktok:#a,0,views,lots\n", "not a finite number"),
            ("tiktok:#a,0,views\n", "expected 4 columns"),
            ("tiktok:#a,0,views,NaN\n", "not a finite number"),
            ("tiktok:#a,0,views,-5\n", "below zero"),
            (
                "tiktok:#a,0,vues totales,1\n",
                "`vues totales` is not a metric name",
            ),
        ];
        for (row, needle) in cases {
            let e = parse(&format!("{head}{row}")).unwrap_err();
            assert_eq!(e.line, 3, "{row}");
            assert!(e.to_string().starts_with("in.csv:3: "), "{e}");
            assert!(e.message.contains(needle), "{e}");
        }
        assert_eq!(parse("entity,time,metric,value\n").unwrap_err().line, 1);
        // A huge or hostile value is quoted short and escaped.
        let huge = format!("{head}tiktok:#a,0,views,{}\u{0}x\n", "9".repeat(100_000));
        let e = parse(&huge).unwrap_err().to_string();
        assert!(e.len() < 300, "{} bytes", e.len());
        assert!(!e.contains('\u{0}'), "{e}");
        let nul = parse(&format!("{head}tiktok:#a,0,views,1\u{0}2\n")).unwrap_err();
        assert!(nul.message.contains("\\0"), "{}", nul.message);
        assert_eq!(parse("").unwrap_err().line, 1);
    }

    #[test]
    fn values_and_times_print_shortest_exact() {
        assert_eq!(format_value(5.0), "5");
        assert_eq!(format_value(0.1), "0.1");
        assert_eq!(format_value(-2.5e-7).parse::<f64>().unwrap(), -2.5e-7);
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
    }
}
