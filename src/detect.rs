//! Trend detection: pure functions from series to ranked trends.
