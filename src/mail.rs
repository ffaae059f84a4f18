//! Delivery: the outbox first, then the transport (file, SMTP, sendmail).
