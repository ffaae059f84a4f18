//! A loopback SMTP sink: accepts every message (no TLS, no AUTH) and keeps it in memory.
//! It can be stopped and started again on the same port to simulate a mail server outage.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// One accepted message: the envelope and the raw RFC 5322 text.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
    /// When the server accepted it.
    pub arrived: std::time::Instant,
}

pub struct SmtpSink {
    pub addr: SocketAddr,
    messages: Arc<Mutex<Vec<Received>>>,
    rules: Arc<Mutex<Rules>>,
    tasks: Option<JoinSet<()>>,
}

/// How the sink misbehaves, as real servers do.
#[derive(Default)]
struct Rules {
    /// Answered `550 5.1.1 … User unknown` at RCPT.
    refused: Vec<String>,
    /// For these recipients, the next message is read whole and the connection dropped
    /// before the 250 (the message is recorded: the server may well have queued it).
    drop_after_data: Vec<String>,
}

impl SmtpSink {
    /// Listens on 127.0.0.1 (`port` 0 picks a free one).
    pub async fn start(port: u16) -> SmtpSink {
        let mut sink = SmtpSink {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            messages: Arc::new(Mutex::new(Vec::new())),
            rules: Arc::default(),
            tasks: None,
        };
        sink.resume().await;
        sink
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn messages(&self) -> Vec<Received> {
        self.messages.lock().unwrap().clone()
    }

    /// Refuses `address` for good (550) from now on.
    pub fn refuse(&self, address: &str) {
        self.rules.lock().unwrap().refused.push(address.to_owned());
    }

    /// Drops the connection after the next message to `address` was read, before its 250.
    pub fn drop_after_data_once(&self, address: &str) {
        self.rules
            .lock()
            .unwrap()
            .drop_after_data
            .push(address.to_owned());
    }

    pub fn is_running(&self) -> bool {
        self.tasks.is_some()
    }

    /// Closes the listener and every open connection: connections are then refused.
    pub fn stop(&mut self) {
        if let Some(mut tasks) = self.tasks.take() {
            tasks.abort_all();
        }
    }

    /// Listens again on the same port.
    pub async fn resume(&mut self) {
        if self.tasks.is_some() {
            return;
        }
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.addr = listener.local_addr().unwrap();
        let messages = self.messages.clone();
        let rules = self.rules.clone();
        let mut tasks = JoinSet::new();
        let conns = Arc::new(Mutex::new(JoinSet::new()));
        let held = conns.clone();
        tasks.spawn(async move {
            let _held = held;
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let messages = messages.clone();
                let rules = rules.clone();
                conns.lock().unwrap().spawn(async move {
                    let _ = session(stream, messages, rules).await;
                });
            }
        });
        self.tasks = Some(tasks);
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    messages: Arc<Mutex<Vec<Received>>>,
    rules: Arc<Mutex<Rules>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write
        .write_all(b"220 sink.localhost ESMTP test sink\r\n")
        .await?;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.localhost\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if upper.starts_with("HELO") {
            b"250 sink.localhost\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = line[10..].trim().to_string();
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            let rcpt = line[8..].trim().to_string();
            let bare = rcpt.trim_matches(|c| c == '<' || c == '>');
            if rules.lock().unwrap().refused.iter().any(|r| r == bare) {
                b"550 5.1.1 Recipient address rejected: User unknown\r\n"
            } else {
                to.push(rcpt);
                b"250 OK\r\n"
            }
        } else if upper.starts_with("DATA") {
            write.write_all(b"354 end with .\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let l = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(l);
            }
            messages.lock().unwrap().push(Received {
                from: from.clone(),
                to: to.clone(),
                data,
                arrived: std::time::Instant::now(),
            });
            let drop_now = {
                let mut rules = rules.lock().unwrap();
                let hit = rules.drop_after_data.iter().position(|d| {
                    to.iter()
                        .any(|t| t.trim_matches(|c| c == '<' || c == '>') == d)
                });
                hit.map(|i| rules.drop_after_data.remove(i)).is_some()
            };
            if drop_now {
                return Ok(());
            }
            b"250 OK queued\r\n"
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else if upper.starts_with("RSET") || upper.starts_with("NOOP") {
            b"250 OK\r\n"
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}
