//! The default pull policy of an image (`SetDefaults_Container`, `SetDefaults_Volume`): `Always`
//! when the reference's tag is `latest` (an image with neither tag nor digest counts as
//! `latest`), `IfNotPresent` otherwise, including when the reference does not parse: Go ignores
//! `parsers.ParseImageName`'s error and reads an empty tag.
//!
//! The tag is read as `github.com/distribution/reference` `ParseNormalizedNamed` reads it,
//! restated from its grammar: `[domain[:port]/]path[:tag][@algorithm:hex]`, path components
//! lowercase.

/// `Always` or `IfNotPresent` for `image`.
pub(super) fn pull_policy(image: &str) -> &'static str {
    if tag(image) == Some("latest") {
        "Always"
    } else {
        "IfNotPresent"
    }
}

/// The tag `parsers.ParseImageName` returns: `latest` when neither tag nor digest is given, `""`
/// for a digest alone; `None` when the reference does not parse.
fn tag(image: &str) -> Option<&str> {
    // A bare 64-hex identifier is refused (`anchoredIdentifierRegexp`).
    if image.len() == 64 && image.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    // splitDockerDomain: the first component is a domain when it has a `.` or `:`, is
    // `localhost`, or has an uppercase letter.
    let (domain, remainder) = match image.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':']) || first == "localhost" || first.to_lowercase() != first =>
        {
            (Some(first), rest)
        }
        _ => (None, image),
    };
    let (named, digest) = match remainder.split_once('@') {
        Some((named, digest)) => (named, Some(digest)),
        None => (remainder, None),
    };
    let (path, tag) = match named.split_once(':') {
        Some((path, tag)) => (path, Some(tag)),
        None => (named, None),
    };
    // The repository name must be lowercase, then match the reference grammar.
    let domain_ok = domain.is_none_or(is_domain);
    // The name's length counts the `docker.io/` (and `library/`) a short name is given.
    let name_len = match domain {
        Some(d) => d.len() + 1 + path.len(),
        None if path.contains('/') => "docker.io/".len() + path.len(),
        None => "docker.io/library/".len() + path.len(),
    };
    if !domain_ok
        || !path.split('/').all(is_path_component)
        || name_len > 255
        || !tag.is_none_or(is_tag)
        || !digest.is_none_or(is_digest)
    {
        return None;
    }
    Some(match (tag, digest) {
        (Some(tag), _) => tag,
        (None, Some(_)) => "",
        (None, None) => "latest",
    })
}

/// `domainAndPort`: a host (DNS components or a bracketed IPv6 address), an optional port.
fn is_domain(domain: &str) -> bool {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ip, tail)) if !ip.is_empty() && ip.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') => {
                match tail {
                    "" => return true,
                    t => match t.strip_prefix(':') {
                        Some(port) => return !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()),
                        None => return false,
                    },
                }
            }
            _ => return false,
        }
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (domain, None),
        }
    };
    let component_ok = |c: &str| {
        let b = c.as_bytes();
        !b.is_empty()
            && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    };
    host.split('.').all(component_ok)
        && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `pathComponent`: `[a-z0-9]+` runs joined by `.`, `_`, `__` or dashes.
fn is_path_component(component: &str) -> bool {
    let b = component.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

/// `tag`: `[\w][\w.-]{0,127}`.
fn is_tag(tag: &str) -> bool {
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    let b = tag.as_bytes();
    !b.is_empty() && b.len() <= 128 && word(b[0]) && b.iter().all(|x| word(*x) || *x == b'.' || *x == b'-')
}

/// A digest `go-digest` accepts: a registered algorithm (`sha256`, `sha384`, `sha512`) and a
/// lowercase hex encoding of its length.
fn is_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let len = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == len && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case::no_tag("nginx", "Always")]
    #[case::latest("nginx:latest", "Always")]
    #[case::pinned("nginx:1.27", "IfNotPresent")]
    #[case::registry_port_no_tag("localhost:5000/team/app", "Always")]
    #[case::registry_port_tag("registry.example.com:5000/team/app:v2", "IfNotPresent")]
    #[case::digest_only(
        "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "IfNotPresent"
    )]
    #[case::latest_and_digest(
        "nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "Always"
    )]
    #[case::uppercase_repository("Nginx", "IfNotPresent")]
    #[case::uppercase_domain("Registry/app", "Always")]
    #[case::bad_digest("nginx@md5:abc", "IfNotPresent")]
    #[case::empty("", "IfNotPresent")]
    #[case::ipv6_registry("[::1]:5000/app", "Always")]
    fn pull_policy_follows_the_tag(#[case] image: &str, #[case] policy: &str) {
        assert_eq!(pull_policy(image), policy);
    }
}
