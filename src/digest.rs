//! The digest: trends and collection health rendered as HTML, text and PNG charts.
