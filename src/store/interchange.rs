//! The CSV and JSON forms of samples that `import` reads and `export` writes.
