//! The workers: each owns a connection and its keys and runs PUT / GET / LIST / DELETE.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::args::*;
use crate::conn::*;
use crate::ctx::*;
use crate::pattern::*;

/// A key owned by one worker (put/mixed): the last version issued and the versions the server may
/// hold (more than one only after a PUT whose outcome is unknown).
pub(crate) struct KeyState {
    pub(crate) id: u64,
    pub(crate) latest: u64,
    pub(crate) accepted: Vec<u64>,
    /// The key may be absent (a DELETE was acknowledged, or its outcome is unknown).
    pub(crate) absent_ok: bool,
}

pub(crate) struct Plan {
    pub(crate) op: Op,
    pub(crate) get_ratio: f64,
    pub(crate) list_ratio: f64,
    pub(crate) delete_ratio: f64,
    pub(crate) total_keys: u64,
    pub(crate) measure_start: Instant,
    pub(crate) deadline: Option<Instant>,
    pub(crate) requests: Option<u64>,
    pub(crate) tickets: AtomicU64,
}

#[derive(Default)]
pub(crate) struct WorkerOut {
    pub(crate) lat_ns: Vec<u64>,
    pub(crate) get_ops: u64,
    pub(crate) put_ops: u64,
    pub(crate) list_ops: u64,
    pub(crate) delete_ops: u64,
    pub(crate) not_found: u64,
    pub(crate) bytes: u64,
    pub(crate) errors: u64,
    pub(crate) verified: u64,
}

/// xorshift64: each worker's cheap choice of keys and operations.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub(crate) async fn worker(
    ctx: Arc<Ctx>,
    plan: Arc<Plan>,
    w: usize,
    mut conn: Conn,
    mut keys: Vec<KeyState>,
) -> WorkerOut {
    let mut out = WorkerOut::default();
    let mut rng = Rng(mix(w as u64 + 1) | 1);
    let mut next = 0usize;
    const GET_ACCEPTED: [u64; 1] = [1];
    loop {
        let now = Instant::now();
        let measured = now >= plan.measure_start;
        if measured {
            if plan.deadline.is_some_and(|d| now >= d) {
                break;
            }
            if let Some(n) = plan.requests {
                if plan.tickets.fetch_add(1, Ordering::Relaxed) >= n {
                    break;
                }
            }
        }
        let act = match plan.op {
            Op::Get => Act::Get,
            Op::Put => Act::Put,
            Op::Mixed if rng.unit() < plan.get_ratio => Act::Get,
            Op::Mixed => Act::Put,
            Op::Soak => {
                let u = rng.unit();
                if u < plan.get_ratio {
                    Act::Get
                } else if u < plan.get_ratio + plan.list_ratio {
                    Act::List
                } else if u < plan.get_ratio + plan.list_ratio + plan.delete_ratio {
                    Act::Delete
                } else {
                    Act::Put
                }
            }
        };
        let t = Instant::now();
        let (key, result) = if plan.op == Op::Get {
            let key = rng.below(plan.total_keys);
            let r = ctx.get(&mut conn, key, &GET_ACCEPTED).await;
            (key, r.map(|(v, bytes)| Done::read(v, bytes)))
        } else {
            let i = if plan.op == Op::Put {
                next = (next + 1) % keys.len().max(1);
                next
            } else {
                rng.below(keys.len() as u64) as usize
            };
            let Some(ks) = keys.get_mut(i) else {
                break;
            };
            let id = ks.id;
            let r = match act {
                Act::Get => get_owned(&ctx, &mut conn, ks).await,
                Act::Put => put_owned(&ctx, &mut conn, ks).await,
                Act::Delete => delete_owned(&ctx, &mut conn, ks).await,
                Act::List => {
                    let max_keys = if rng.below(4) == 0 { 37 } else { 1000 };
                    list_owned(&ctx, &mut conn, id, &keys, max_keys).await
                }
            };
            (id, r)
        };
        let elapsed = t.elapsed();
        match result {
            Ok(done) => {
                if measured {
                    out.lat_ns.push(elapsed.as_nanos() as u64);
                    match act {
                        Act::Get => out.get_ops += 1,
                        Act::Put => out.put_ops += 1,
                        Act::List => out.list_ops += 1,
                        Act::Delete => out.delete_ops += 1,
                    }
                    out.verified += u64::from(done.verified);
                    out.not_found += u64::from(done.not_found);
                    out.bytes += done.bytes;
                }
            }
            Err(e) => {
                if measured {
                    out.errors += 1;
                }
                ctx.report_error(&format!("{} obj-{key}", act.name()), &e);
                if matches!(e, ReqError::Connect(_) | ReqError::Build(_)) {
                    // Do not spin on a dead server.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    out
}

/// What a worker does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Act {
    Get,
    Put,
    List,
    Delete,
}

impl Act {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Act::Get => "GET",
            Act::Put => "PUT",
            Act::List => "LIST",
            Act::Delete => "DELETE",
        }
    }
}

/// A successful request: body bytes moved, whether a GET body was verified, whether a GET was
/// the expected 404 of a deleted key.
#[derive(Default)]
pub(crate) struct Done {
    pub(crate) bytes: u64,
    pub(crate) verified: bool,
    pub(crate) not_found: bool,
}

impl Done {
    pub(crate) fn read(version: Option<u64>, bytes: u64) -> Done {
        Done {
            bytes,
            verified: version.is_some(),
            not_found: false,
        }
    }
}

/// The `<Code>` of an S3 error body.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ErrorBody {
    pub(crate) code: String,
}

pub(crate) fn is_no_such_key(body: &str) -> bool {
    quick_xml::de::from_str::<ErrorBody>(body).is_ok_and(|e| e.code == "NoSuchKey")
}

/// GET of one of the worker's keys: an accepted version, verified, or (after a DELETE) 404
/// NoSuchKey. A definite answer settles the key's state.
pub(crate) async fn get_owned(
    ctx: &Ctx,
    conn: &mut Conn,
    ks: &mut KeyState,
) -> Result<Done, ReqError> {
    match ctx.get(conn, ks.id, &ks.accepted).await {
        Ok((version, bytes)) => {
            if let Some(v) = version {
                ks.accepted = vec![v];
                ks.absent_ok = false;
            }
            Ok(Done::read(version, bytes))
        }
        Err(ReqError::Status(404, body)) if ks.absent_ok && is_no_such_key(&body) => {
            ks.accepted.clear();
            Ok(Done {
                not_found: true,
                ..Done::default()
            })
        }
        Err(ReqError::Status(404, body)) if ks.absent_ok => Err(ReqError::Status(
            404,
            format!("deleted key: expected the code NoSuchKey, got {body}"),
        )),
        Err(e) => Err(e),
    }
}

/// PUT of the next version of one of the worker's keys.
pub(crate) async fn put_owned(
    ctx: &Ctx,
    conn: &mut Conn,
    ks: &mut KeyState,
) -> Result<Done, ReqError> {
    let version = ks.latest + 1;
    ks.latest = version;
    let r = ctx.put(conn, ks.id, version).await;
    match &r {
        // Stored (a mismatch is in the answer's headers, the object was written).
        Ok(_) | Err(ReqError::Mismatch(_)) => {
            ks.accepted = vec![version];
            ks.absent_ok = false;
        }
        Err(e) if e.uncertain() => ks.accepted.push(version),
        Err(_) => {}
    }
    r.map(|bytes| Done {
        bytes,
        ..Done::default()
    })
}

/// DELETE of one of the worker's keys: afterwards GETs must answer 404 NoSuchKey and listings
/// must not show it, until the next PUT.
pub(crate) async fn delete_owned(
    ctx: &Ctx,
    conn: &mut Conn,
    ks: &mut KeyState,
) -> Result<Done, ReqError> {
    let r = ctx.delete_object(conn, ks.id).await;
    match &r {
        Ok(()) => {
            ks.accepted.clear();
            ks.absent_ok = true;
        }
        Err(e) if e.uncertain() => ks.absent_ok = true,
        Err(_) => {}
    }
    r.map(|()| Done::default())
}

/// The listing prefix for key `id`: `obj-` and its decimal digits but the last (all of them for
/// one digit), so listings cover 1 to ~100 keys of all workers.
pub(crate) fn list_prefix(id: u64) -> String {
    let mut digits = id.to_string();
    if digits.len() > 1 {
        digits.pop();
    }
    format!("obj-{digits}")
}

/// ListObjectsV2 of the prefix of key `id` (well-formedness checked by [`Ctx::list`]), then
/// consistency with the worker's own keys under the prefix: a key whose last acknowledged write
/// is a PUT is listed with that version's size; a key whose last acknowledged write is a DELETE
/// is not listed. Keys of other workers are only checked for form.
pub(crate) async fn list_owned(
    ctx: &Ctx,
    conn: &mut Conn,
    id: u64,
    keys: &[KeyState],
    max_keys: u32,
) -> Result<Done, ReqError> {
    let prefix = list_prefix(id);
    let listed = ctx.list(conn, &prefix, max_keys).await?;
    let listed: std::collections::HashMap<String, u64> = listed.into_iter().collect();
    for ks in keys {
        let name = format!("obj-{}", ks.id);
        if !name.starts_with(&prefix) {
            continue;
        }
        let bad = |what: String| {
            ReqError::Mismatch(format!("ListObjectsV2 prefix {prefix:?}: {name} {what}"))
        };
        match listed.get(&name) {
            Some(_) if ks.accepted.is_empty() => return Err(bad("listed after its DELETE".into())),
            Some(&size) if !ks.accepted.iter().any(|&v| ctx.size_of(ks.id, v) == size) => {
                return Err(bad(format!(
                    "listed with size {size}, expected that of version(s) {:?}",
                    ks.accepted
                )));
            }
            Some(_) => {}
            None if !ks.absent_ok => return Err(bad("not listed after its PUT".into())),
            None => {}
        }
    }
    Ok(Done::default())
}

/// Deletes `ids`; returns how many deletions failed.
pub(crate) async fn delete_keys(ctx: Arc<Ctx>, ids: Vec<u64>) -> u64 {
    let mut conn = Conn::default();
    let mut errors = 0;
    for id in ids {
        if let Err(e) = ctx.delete(&mut conn, &ctx.object_path(id)).await {
            errors += 1;
            ctx.report_error(&format!("cleanup DELETE obj-{id}"), &e);
        }
    }
    errors
}

/// Writes version 1 of `ids` (before timing starts).
pub(crate) async fn populate(ctx: Arc<Ctx>, ids: Vec<u64>) -> (Conn, u64) {
    let mut conn = Conn::default();
    let mut errors = 0;
    for id in ids {
        if let Err(e) = ctx.put(&mut conn, id, 1).await {
            errors += 1;
            ctx.report_error(&format!("populate PUT obj-{id}"), &e);
        }
    }
    (conn, errors)
}
