//! A header map built from name/value pairs, for the unit tests of every layer (a leaf module, so
//! that tests below `http/` need not import it).

use http::HeaderMap;

/// A header map from name/value pairs (repeated names are appended), for tests.
pub fn header_map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        let name = http::HeaderName::from_bytes(k.as_bytes())
            .unwrap_or_else(|_| panic!("bad test header name {k}"));
        let value = v
            .parse()
            .unwrap_or_else(|_| panic!("bad test header value for {k}"));
        h.append(name, value);
    }
    h
}
