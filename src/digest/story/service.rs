//! The sentences about trendwatch's own service in a digest: sources that failed and what to
//! do, addresses the mail server refused, pages only the browser could read, and the warm-up
//! while too little history is collected.

use super::*;

/// One line per cause of failure, with advice.
pub(crate) fn health_line(g: &HealthGroup, at: UnixSeconds, lang: Language) -> String {
    let (cause, advice) = match (g.kind.as_str(), lang) {
        ("network", Fr) => ("Connexion impossible", "le serveur a-t-il accès à Internet ?"),
        ("network", En) => ("Could not connect", "does the server have Internet access?"),
        ("timeout", Fr) => (
            "Pas de réponse à temps",
            "réseau lent ou site surchargé ; trendwatch réessaie à chaque collecte.",
        ),
        ("timeout", En) => (
            "No answer in time",
            "a slow network or a busy site; trendwatch retries at every collection.",
        ),
        ("blocked", Fr) => (
            "Accès bloqué par une vérification anti-robot",
            "espacez les collectes (per_host_interval) ou activez le navigateur (browser = \"fallback\" dans [collect]).",
        ),
        ("blocked", En) => (
            "Access blocked by a bot check",
            "space out collections (per_host_interval) or turn the browser on (browser = \"fallback\" in [collect]).",
        ),
        ("browser_unavailable", Fr) => (
            "Navigateur indisponible",
            "installez Chromium (apt install chromium) ou indiquez browser_url dans [collect].",
        ),
        ("browser_unavailable", En) => (
            "Browser unavailable",
            "install Chromium (apt install chromium) or set browser_url in [collect].",
        ),
        ("region", Fr) => (
            "Produit non vendu dans votre région",
            "TikTok Shop ne le vend pas ici : retirez-le de [shop] ou vérifiez `region`.",
        ),
        ("region", En) => (
            "Product not for sale in your region",
            "TikTok Shop does not sell it here: remove it from [shop] or check `region`.",
        ),
        ("not_found", Fr) => (
            "Page introuvable",
            "vérifiez l'orthographe dans la liste de veille (compte renommé ou supprimé ?)",
        ),
        ("not_found", En) => (
            "Page not found",
            "check the spelling in the watchlist: was the account renamed or deleted?",
        ),
        ("private", Fr) => (
            "Compte privé",
            "ses chiffres ne sont pas publics : retirez-le de la liste de veille.",
        ),
        ("private", En) => (
            "Private account",
            "its figures are not public: remove it from the watchlist.",
        ),
        ("too_large", Fr) => (
            "Page trop volumineuse",
            "augmentez max_body dans [collect] si la source est fiable.",
        ),
        ("too_large", En) => (
            "Page too large",
            "raise max_body in [collect] if the source is trustworthy.",
        ),
        ("unknown_shape", Fr) => (
            "Page au format inattendu",
            "TikTok ne montre plus ces pages aux clients simples : activez le navigateur (browser = \"fallback\" dans [collect]) ; sinon le site a changé et trendwatch doit être mis à jour.",
        ),
        ("unknown_shape", En) => (
            "Unexpected page format",
            "TikTok no longer shows these pages to plain clients: turn the browser on (browser = \"fallback\" in [collect]); otherwise the site changed and trendwatch needs an update.",
        ),
        (_, Fr) => (
            "Erreur du site",
            "souvent passager ; si cela dure, vérifiez l'adresse de la source.",
        ),
        (_, En) => (
            "Error from the site",
            "often temporary; if it lasts, check the source's address.",
        ),
    };
    let sources = match lang {
        Fr => locale::plural(g.count as i64, "source", "sources"),
        En => locale::plural(g.count as i64, "source", "sources"),
    };
    let when = if g.never_collected == g.count {
        match lang {
            Fr if g.count == 1 => ", jamais collectée".to_owned(),
            Fr => ", jamais collectées".to_owned(),
            En => ", never collected".to_owned(),
        }
    } else {
        let d = locale::duration(at - g.since, lang);
        match lang {
            Fr => format!(" depuis {d}"),
            En => format!(" for {d}"),
        }
    };
    match lang {
        Fr => format!("{cause} pour {sources}{when} : {advice}"),
        En => format!("{cause} for {sources}{when}: {advice}"),
    }
}

/// A recipient the mail server refuses: the others got the digest; this one must be fixed.
pub(crate) fn refused_line(address: &str, answer: &str, lang: Language) -> String {
    match lang {
        Language::Fr => format!(
            "Adresse refusée par le serveur de messagerie : {address} ({answer}). Les autres destinataires reçoivent le résumé ; corrigez-la dans [digest] to."
        ),
        Language::En => format!(
            "Address refused by the mail server: {address} ({answer}). The other recipients get the digest; fix it in [digest] to."
        ),
    }
}

/// How many sources only the browser could read: worth knowing (it costs time and memory),
/// not a failure.
pub(crate) fn browser_line(count: usize, lang: Language) -> String {
    let n = count as i64;
    match lang {
        Language::Fr => format!(
            "{} par le navigateur intégré : TikTok ne les montre plus aux clients simples.",
            locale::plural(n, "source lue", "sources lues")
        ),
        Language::En => format!(
            "{} through the built-in browser: TikTok no longer shows them to plain clients.",
            locale::plural(n, "source read", "sources read")
        ),
    }
}

/// Trends still under way that an earlier digest reported (held back by the cooldown): the
/// reader learns they are not forgotten, and when they were told. `nothing_else`: the digest
/// has no new item.
pub(crate) fn already_told(
    told: &[AlreadyTold],
    nothing_else: bool,
    lang: Language,
    tz: chrono_tz::Tz,
) -> Option<String> {
    if told.is_empty() {
        return None;
    }
    let mut names: Vec<String> = told
        .iter()
        .take(5)
        .map(|t| {
            let when = locale::short_date(t.told_at, tz, lang);
            match lang {
                Fr => format!(
                    "{} ({} l'habitude, signalé le {when})",
                    t.name,
                    locale::ratio(t.growth, lang)
                ),
                En => format!(
                    "{} ({} usual, reported on {when})",
                    t.name,
                    locale::ratio(t.growth, lang)
                ),
            }
        })
        .collect();
    if told.len() > 5 {
        names.push(match lang {
            Fr => format!("et {} autres", told.len() - 5),
            En => format!("and {} more", told.len() - 5),
        });
    }
    let list = names.join(", ");
    let one = told.len() == 1;
    Some(match (nothing_else, lang) {
        (true, Fr) => format!(
            "Rien de nouveau depuis le dernier résumé. Toujours en hausse, déjà signalé : {list}. \
             {}",
            if one {
                "Il reviendra ici s'il double encore."
            } else {
                "Ils reviendront ici s'ils doublent encore."
            }
        ),
        (true, En) => format!(
            "Nothing new since the last digest. Still rising, already reported: {list}. {}",
            if one {
                "It comes back here if it doubles again."
            } else {
                "They come back here if they double again."
            }
        ),
        (false, Fr) => format!("Toujours en hausse, déjà signalé : {list}."),
        (false, En) => format!("Still rising, already reported: {list}."),
    })
}

/// What the digest says while history is short or nothing was collected.
pub(crate) fn warmup(w: &Warmup, lang: Language, tz: chrono_tz::Tz) -> String {
    let days = w.baseline_days;
    match (w.collecting_since, w.ready_at, lang) {
        (Some(since), Some(ready), Fr) => format!(
            "trendwatch collecte depuis le {} : il lui faut {days} jours d'historique pour connaître \
             le niveau habituel de chaque hashtag et de chaque créateur. D'ici le {}, les tendances \
             signalées sont à confirmer ; ensuite, la détection est complète.",
            locale::date_in(since, tz, lang),
            locale::date_in(ready, tz, lang)
        ),
        (Some(since), Some(ready), En) => format!(
            "trendwatch has been collecting since {}: it needs {days} days of history to know the \
             usual level of each hashtag and creator. Until {}, trends shown are to be confirmed; \
             from then on, detection is complete.",
            locale::date_in(since, tz, lang),
            locale::date_in(ready, tz, lang)
        ),
        (_, _, Fr) => format!(
            "Aucune donnée n'a encore pu être collectée, donc aucune tendance ne peut être détectée \
             (voir l'état de la collecte). Les premières tendances apparaîtront environ {days} jours \
             après la première collecte réussie."
        ),
        (_, _, En) => format!(
            "Nothing could be collected yet, so no trend can be detected (see collection health). \
             The first trends will appear about {days} days after the first successful collection."
        ),
    }
}
