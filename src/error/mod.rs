//! The one place where errors become S3 error responses.
//!
//! Every layer has its own error enum (`AuthError`, `StoreError`, ...). This module owns the list of S3
//! error codes, their HTTP status, and the `From` conversions that turn layer errors into [`S3Error`].
//! Rendering is side-effect free: the request id is attached by the HTTP layer, and internal causes are
//! logged once there, never sent to the client.

mod code;
mod from_layers;
mod unverified;

pub use code::S3ErrorCode;
pub use unverified::Unverified;

use axum::response::{IntoResponse, Response};
use http::HeaderValue;
#[cfg(test)]
use http::StatusCode;

/// An S3 error response: code, message and the extra elements S3 puts between `Message` and
/// `RequestId` (`BucketName`, `Key`, `ArgumentName`, ...). The internal cause, if any, is kept for
/// the log and never rendered.
#[derive(Debug, Clone)]
pub struct S3Error {
    pub code: S3ErrorCode,
    pub message: String,
    pub fields: Vec<(&'static str, String)>,
    pub headers: Vec<(&'static str, String)>,
    pub internal: Option<String>,
}

impl S3Error {
    pub fn new(code: S3ErrorCode) -> Self {
        S3Error {
            code,
            message: code.default_message().to_string(),
            fields: Vec::new(),
            headers: Vec::new(),
            internal: None,
        }
    }

    pub fn with_message(code: S3ErrorCode, message: impl Into<String>) -> Self {
        let mut e = Self::new(code);
        e.message = message.into();
        e
    }

    /// Adds an element to the error body (`<name>value</name>`), in S3's order of calls.
    pub fn field(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    /// Adds a response header to the error (e.g. `x-amz-bucket-region` on HEAD errors).
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(S3ErrorCode::InternalError);
        e.internal = Some(cause.to_string());
        e
    }

    pub fn no_such_bucket(bucket: &str) -> Self {
        Self::new(S3ErrorCode::NoSuchBucket).field("BucketName", bucket)
    }

    pub fn no_such_key(key: &str) -> Self {
        Self::new(S3ErrorCode::NoSuchKey).field("Key", key)
    }

    pub fn not_implemented(what: &str) -> Self {
        Self::with_message(
            S3ErrorCode::NotImplemented,
            format!("{what} is not implemented by sealstore."),
        )
    }

    pub fn invalid_argument(message: impl Into<String>, name: &str, value: &str) -> Self {
        Self::with_message(S3ErrorCode::InvalidArgument, message)
            .field("ArgumentName", name)
            .field("ArgumentValue", value)
    }

    /// Renders the XML body S3 sends, with the request path as `Resource` and the request id.
    pub fn to_xml(&self, resource: &str, request_id: &str, host_id: &str) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
        out.push_str(self.code.as_str());
        out.push_str("</Code><Message>");
        out.push_str(&crate::xml_text::escape(&self.message));
        out.push_str("</Message>");
        for (name, value) in &self.fields {
            out.push('<');
            out.push_str(name);
            out.push('>');
            out.push_str(&crate::xml_text::escape(value));
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        out.push_str("<Resource>");
        out.push_str(&crate::xml_text::escape(resource));
        out.push_str("</Resource><RequestId>");
        out.push_str(request_id);
        out.push_str("</RequestId><HostId>");
        out.push_str(host_id);
        out.push_str("</HostId></Error>");
        out
    }
}

impl std::fmt::Display for S3Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for S3Error {}

/// The error travels to the response layer as an extension; `http::entry` renders it there with the
/// request id (so this conversion never needs global state).
impl IntoResponse for S3Error {
    fn into_response(self) -> Response {
        let mut res = Response::new(axum::body::Body::empty());
        *res.status_mut() = self.code.status();
        for (name, value) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                res.headers_mut().insert(*name, v);
            }
        }
        res.extensions_mut().insert(std::sync::Arc::new(self));
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_s3() {
        assert_eq!(S3ErrorCode::NoSuchKey.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            S3ErrorCode::SignatureDoesNotMatch.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(S3ErrorCode::BucketNotEmpty.status(), StatusCode::CONFLICT);
        assert_eq!(
            S3ErrorCode::InvalidRange.status(),
            StatusCode::RANGE_NOT_SATISFIABLE
        );
        assert_eq!(
            S3ErrorCode::NotImplemented.status(),
            StatusCode::NOT_IMPLEMENTED
        );
        assert_eq!(
            S3ErrorCode::MissingContentLength.status(),
            StatusCode::LENGTH_REQUIRED
        );
        assert_eq!(
            S3ErrorCode::AuthorizationHeaderMalformed.status(),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn xml_shape() {
        let e = S3Error::no_such_bucket("b&b");
        let xml = e.to_xml("/b&b", "REQ1", "HOST1");
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>b&amp;b</BucketName><Resource>/b&amp;b</Resource><RequestId>REQ1</RequestId><HostId>HOST1</HostId></Error>"
        );
    }
}
