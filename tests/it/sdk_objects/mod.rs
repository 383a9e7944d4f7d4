//! Objects through aws-sdk-s3: put/get/head/delete, metadata and content headers, ranges,
//! conditionals, response-* overrides, CopyObject, DeleteObjects, awkward keys, concurrency,
//! restart durability and `--memory`.

mod content_encoding;
mod copy_and_delete;
mod keys_and_restarts;
mod read_write;

use aws_sdk_s3::primitives::DateTime;
use aws_sdk_s3::types::{Delete, MetadataDirective, ObjectIdentifier};
use aws_smithy_types::date_time::Format;

use crate::common::*;

fn http_date(dt: &DateTime) -> String {
    dt.fmt(Format::HttpDate).unwrap()
}

fn shifted(dt: &DateTime, secs: i64) -> DateTime {
    DateTime::from_secs(dt.secs() + secs)
}

async fn ranged(
    s3: &aws_sdk_s3::Client,
    b: &str,
    key: &str,
    range: &str,
) -> (u16, Option<String>, Option<i64>, Vec<u8>) {
    let rec = StatusRecorder::default();
    let out = s3
        .get_object()
        .bucket(b)
        .key(key)
        .range(range)
        .customize()
        .interceptor(rec.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("range {range}: {e:?}"));
    let cr = out.content_range().map(str::to_string);
    let len = out.content_length();
    let body = out.body.collect().await.unwrap().into_bytes().to_vec();
    (rec.get(), cr, len, body)
}
