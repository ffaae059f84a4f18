//! A loopback SMTP sink shared by the mail tests: a real SMTP exchange that records each
//! message it accepts.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Enough SMTP to accept mail: greeting, EHLO, MAIL, RCPT, DATA, QUIT. Records each DATA.
pub async fn sink(listener: TcpListener, got: Arc<Mutex<Vec<Vec<u8>>>>) {
    loop {
        let Ok((sock, _)) = listener.accept().await else {
            return;
        };
        let got = got.clone();
        tokio::spawn(async move {
            let (r, mut w) = sock.into_split();
            let mut r = BufReader::new(r);
            w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
            let mut line = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let cmd = line.to_ascii_uppercase();
                if cmd.starts_with("EHLO") {
                    w.write_all(b"250-sink\r\n250 8BITMIME\r\n").await.unwrap();
                } else if cmd.starts_with("DATA") {
                    w.write_all(b"354 go\r\n").await.unwrap();
                    let mut data = Vec::new();
                    loop {
                        let mut l = Vec::new();
                        r.read_until(b'\n', &mut l).await.unwrap();
                        if l == b".\r\n" {
                            break;
                        }
                        let l = if l.starts_with(b"..") {
                            l[1..].to_vec()
                        } else {
                            l
                        };
                        data.extend_from_slice(&l);
                    }
                    got.lock().unwrap().push(data);
                    w.write_all(b"250 queued\r\n").await.unwrap();
                } else if cmd.starts_with("QUIT") {
                    w.write_all(b"221 bye\r\n").await.unwrap();
                    return;
                } else {
                    w.write_all(b"250 ok\r\n").await.unwrap();
                }
            }
        });
    }
}
