//! HTTP front end: routing, request ids, header parsing, XML and bodies.

pub mod body;
pub mod drain;
pub mod entry;
pub mod framing;
pub mod headers;
#[cfg(test)]
mod proptests;
pub mod request_id;
pub mod router;
pub mod timeout;
pub mod xml;
