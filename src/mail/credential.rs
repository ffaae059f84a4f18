//! The service's SMTP password, read from a shell.
//!
//! Inside the service, systemd hands the credential over in `$CREDENTIALS_DIRECTORY`. An
//! administrator who runs `trendwatch check --mail` from a shell has no such folder, so
//! trendwatch looks where systemd itself would take the credential from: the
//! `LoadCredential=`/`LoadCredentialEncrypted=` line of the unit or its drop-ins, else
//! systemd's credential stores, decrypting with `systemd-creds` what was encrypted.

use std::path::{Path, PathBuf};

use super::transport::{Secret, TransportError};

/// Where units and their drop-ins are installed, most specific first.
const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/usr/local/lib/systemd/system",
    "/lib/systemd/system",
];

/// systemd's credential stores, searched when a `LoadCredential*=` line names no path.
const STORES: &[&str] = &["/etc/credstore", "/run/credstore", "/usr/lib/credstore"];

/// A file a credential is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialFile {
    pub path: PathBuf,
    /// Written by `systemd-creds encrypt`: read with `systemd-creds decrypt`.
    pub encrypted: bool,
}

/// The `LoadCredential*=` line for `name` in `text` (a unit or drop-in), as a file (`None`
/// when the line names no path: systemd then searches its stores).
fn line_for(text: &str, name: &str) -> Option<(Option<PathBuf>, bool)> {
    text.lines().rev().find_map(|line| {
        let line = line.trim();
        let (encrypted, value) = if let Some(v) = line.strip_prefix("LoadCredentialEncrypted=") {
            (true, v)
        } else if let Some(v) = line.strip_prefix("LoadCredential=") {
            (false, v)
        } else {
            return None;
        };
        let (id, path) = match value.split_once(':') {
            Some((id, path)) => (id, Some(PathBuf::from(path.trim()))),
            None => (value, None),
        };
        (id.trim() == name).then_some((path, encrypted))
    })
}

/// Where the service `trendwatch.service` gets the credential `name`, looking in
/// `unit_dirs` (each with the unit file and its `.d` drop-ins) then in `stores` (with
/// `.encrypted` beside each).
pub fn locate(name: &str, unit_dirs: &[&Path], stores: &[&Path]) -> Option<CredentialFile> {
    let mut declared: Option<(Option<PathBuf>, bool)> = None;
    for dir in unit_dirs {
        let mut files = vec![dir.join("trendwatch.service")];
        if let Ok(entries) = std::fs::read_dir(dir.join("trendwatch.service.d")) {
            let mut dropins: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "conf"))
                .collect();
            // systemd applies drop-ins in name order: the last one wins.
            dropins.sort();
            files.extend(dropins);
        }
        for file in files {
            if let Some(found) = std::fs::read_to_string(&file)
                .ok()
                .and_then(|t| line_for(&t, name))
            {
                declared = Some(found);
            }
        }
        if declared.is_some() {
            break;
        }
    }
    if let Some((Some(path), encrypted)) = &declared {
        return Some(CredentialFile {
            path: path.clone(),
            encrypted: *encrypted,
        });
    }
    stores.iter().find_map(|store| {
        let encrypted = PathBuf::from(format!("{}.encrypted", store.display())).join(name);
        let plain = store.join(name);
        if encrypted.is_file() {
            Some(CredentialFile {
                path: encrypted,
                encrypted: true,
            })
        } else if plain.is_file() {
            Some(CredentialFile {
                path: plain,
                encrypted: false,
            })
        } else {
            None
        }
    })
}

/// Reads the credential `name` as the service would get it, from a shell (usually as root:
/// the files are the administrator's). Also says where it came from.
pub fn read_outside_service(name: &str) -> Result<(Secret, PathBuf), TransportError> {
    let unit_dirs: Vec<&Path> = UNIT_DIRS.iter().map(Path::new).collect();
    let stores: Vec<&Path> = STORES.iter().map(Path::new).collect();
    let file = locate(name, &unit_dirs, &stores).ok_or_else(|| {
        TransportError::Password(format!(
            "credential `{name}`: no `LoadCredential={name}:…` in trendwatch.service or its \
             drop-ins, and no /etc/credstore/{name} (README, \"The SMTP password\")"
        ))
    })?;
    read(name, &file).map(|s| (s, file.path))
}

fn read(name: &str, file: &CredentialFile) -> Result<Secret, TransportError> {
    let place = || format!("credential `{name}` ({})", file.path.display());
    if !file.encrypted {
        return std::fs::read_to_string(&file.path)
            .map(|v| Secret::new(v.trim_end_matches(['\r', '\n']).to_owned()))
            .map_err(|e| TransportError::Password(format!("{}: {e}", place())));
    }
    let out = std::process::Command::new("systemd-creds")
        .arg("decrypt")
        .arg(format!("--name={name}"))
        .arg(&file.path)
        .arg("-")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| TransportError::Password(format!("{}: systemd-creds: {e}", place())))?;
    if !out.status.success() {
        // systemd-creds says why (not root, another machine's key); never the secret.
        let why = crate::model::clean_text(&String::from_utf8_lossy(&out.stderr), 200);
        return Err(TransportError::Password(format!(
            "{}: systemd-creds could not decrypt it ({why})",
            place()
        )));
    }
    let value = String::from_utf8(out.stdout)
        .map_err(|_| TransportError::Password(format!("{}: not UTF-8", place())))?;
    Ok(Secret::new(value.trim_end_matches(['\r', '\n']).to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drop_in_line_names_the_file_and_the_last_drop_in_wins() {
        let dir = tempfile::tempdir().expect("temp dir");
        let units = dir.path().join("system");
        let dropins = units.join("trendwatch.service.d");
        std::fs::create_dir_all(&dropins).expect("dirs");
        std::fs::write(
            dropins.join("10-smtp.conf"),
            "[Service]\nLoadCredential=smtp_password:/etc/trendwatch/smtp_password\n",
        )
        .expect("write");
        std::fs::write(
            dropins.join("20-encrypted.conf"),
            "[Service]\nLoadCredentialEncrypted=smtp_password:/etc/credstore.encrypted/smtp_password\nLoadCredential=other:/x\n",
        )
        .expect("write");
        let found = locate("smtp_password", &[&units], &[]).expect("found");
        assert_eq!(
            found,
            CredentialFile {
                path: PathBuf::from("/etc/credstore.encrypted/smtp_password"),
                encrypted: true
            }
        );
        assert_eq!(locate("nothing", &[&units], &[]), None);
    }

    #[test]
    fn a_line_without_a_path_is_looked_up_in_the_stores_encrypted_first() {
        let dir = tempfile::tempdir().expect("temp dir");
        let units = dir.path().join("system");
        std::fs::create_dir_all(&units).expect("dirs");
        std::fs::write(
            units.join("trendwatch.service"),
            "[Service]\nLoadCredentialEncrypted=smtp_password\n",
        )
        .expect("write");
        let store = dir.path().join("credstore");
        std::fs::create_dir_all(dir.path().join("credstore.encrypted")).expect("dirs");
        std::fs::create_dir_all(&store).expect("dirs");
        std::fs::write(store.join("smtp_password"), "plain\n").expect("write");
        let found = locate("smtp_password", &[&units], &[&store]).expect("found");
        assert_eq!(found.path, store.join("smtp_password"));
        assert!(!found.encrypted);
        let secret = read("smtp_password", &found).expect("read");
        assert_eq!(secret.expose(), "plain");
        std::fs::write(dir.path().join("credstore.encrypted/smtp_password"), "x").expect("write");
        let found = locate("smtp_password", &[&units], &[&store]).expect("found");
        assert!(found.encrypted);
    }

    #[test]
    fn an_encrypted_credential_is_read_with_systemd_creds() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("smtp_password");
        // Encrypting needs systemd-creds and root (the host key lives in /var/lib/systemd).
        let encrypted = std::process::Command::new("systemd-creds")
            .args(["encrypt", "--name=smtp_password", "-"])
            .arg(&path)
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write as _;
                if let Some(mut stdin) = child.stdin.take() {
                    stdin.write_all(b"s3cret")?;
                }
                child.wait()
            });
        if !encrypted.is_ok_and(|s| s.success()) {
            println!("SKIPPED an_encrypted_credential…: systemd-creds cannot encrypt here (needs it and root)");
            return;
        }
        let file = CredentialFile {
            path: path.clone(),
            encrypted: true,
        };
        assert_eq!(
            read("smtp_password", &file).expect("decrypted").expose(),
            "s3cret"
        );
        // Under another name, systemd refuses it: said, without the secret.
        let err = read("other", &file).expect_err("wrong name");
        let said = err.to_string();
        assert!(said.contains("systemd-creds could not decrypt"), "{said}");
        assert!(!said.contains("s3cret"), "{said}");
    }
}
