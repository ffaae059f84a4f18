//! Arbitrary bytes through the CSV importer: it never panics, and whatever it accepts comes
//! back identical after `export` writes it out and `import` reads it again.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use trendwatch::store::interchange::{parse_csv, CsvOut};

fuzz_target!(|data: &[u8]| {
    let Ok(samples) = parse_csv(Path::new("fuzz.csv"), data) else {
        return;
    };
    for s in &samples {
        assert!(
            s.value.is_finite(),
            "a non-finite value was imported: {s:?}"
        );
    }
    let mut bytes = Vec::new();
    {
        let mut w = CsvOut::new(&mut bytes).unwrap();
        for s in &samples {
            w.write(s).unwrap();
        }
        w.finish().unwrap();
    }
    let again = parse_csv(Path::new("fuzz.csv"), &bytes)
        .unwrap_or_else(|e| panic!("exported samples do not import again: {e}"));
    assert_eq!(again, samples, "export then import changed the samples");
});
