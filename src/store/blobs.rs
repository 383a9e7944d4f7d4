//! Object bytes: one file per object version under `blobs/`, named by a random id, or a map in
//! memory. A blob is invisible until the metadata that names it commits; blobs no metadata names
//! (a crash between the two steps) are removed at start-up.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, BoxStream, StreamExt};
use rand::RngCore;
use std::io::Write;

use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::error::StoreError;

/// Size of the pieces a blob is read back in.
const READ_CHUNK: usize = 64 * 1024;

pub type ByteStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

fn new_id() -> String {
    let mut raw = [0u8; 16];
    rand::rng().fill_bytes(&mut raw);
    hex::encode(raw)
}

pub struct FsBlobs {
    root: PathBuf,
}

impl FsBlobs {
    pub fn open(data_dir: &Path) -> Result<FsBlobs, StoreError> {
        let root = data_dir.join("blobs");
        crate::fsmode::create_private_dir_all(&root)?;
        Ok(FsBlobs { root })
    }

    fn path(&self, id: &str) -> PathBuf {
        let shard = id.get(..2).unwrap_or("00");
        self.root.join(shard).join(id)
    }

    /// Removes every blob not in `keep`; returns how many were removed.
    pub fn collect_garbage(&self, keep: &HashSet<String>) -> Result<usize, StoreError> {
        let mut removed = 0;
        for shard in std::fs::read_dir(&self.root)? {
            let shard = shard?;
            if !shard.file_type()?.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(shard.path())? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if !keep.contains(&name) {
                    std::fs::remove_file(entry.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

#[derive(Default)]
pub struct MemoryBlobs {
    blobs: RwLock<HashMap<String, Bytes>>,
}

pub enum BlobStore {
    Fs(FsBlobs),
    Memory(Arc<MemoryBlobs>),
}

/// An open blob, readable at any offset any number of times.
pub enum OpenBlob {
    File(std::fs::File),
    Memory(Bytes),
    Empty,
}

impl OpenBlob {
    /// Fills `buf` from `offset` with one positioned read (blocking for a file).
    pub fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), std::io::Error> {
        match self {
            OpenBlob::File(f) => std::os::unix::fs::FileExt::read_exact_at(f, buf, offset),
            OpenBlob::Memory(blob) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX);
                let piece = start
                    .checked_add(buf.len())
                    .and_then(|end| blob.get(start..end))
                    .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?;
                buf.copy_from_slice(piece);
                Ok(())
            }
            OpenBlob::Empty => Err(std::io::ErrorKind::UnexpectedEof.into()),
        }
    }

    /// Whether reads may block on the disk.
    pub fn is_file(&self) -> bool {
        matches!(self, OpenBlob::File(_))
    }

    /// Streams `len` bytes from `offset` (fewer at the end of the blob).
    pub async fn read(&self, offset: u64, len: u64) -> Result<ByteStream, StoreError> {
        match self {
            OpenBlob::File(f) => {
                let mut file = tokio::fs::File::from_std(f.try_clone()?);
                file.seek(std::io::SeekFrom::Start(offset)).await?;
                Ok(tokio_util::io::ReaderStream::with_capacity(file.take(len), READ_CHUNK).boxed())
            }
            OpenBlob::Memory(blob) => {
                let start = (offset as usize).min(blob.len());
                let end = (offset.saturating_add(len) as usize).min(blob.len());
                let data = blob.slice(start..end);
                let chunks: Vec<Result<Bytes, std::io::Error>> = (0..data.len())
                    .step_by(READ_CHUNK)
                    .map(|i| Ok(data.slice(i..(i + READ_CHUNK).min(data.len()))))
                    .collect();
                Ok(stream::iter(chunks).boxed())
            }
            OpenBlob::Empty => Ok(stream::empty().boxed()),
        }
    }
}

/// The largest body kept in the metadata database instead of a file: one sealed 64 KiB segment
/// with its header and tags (two layers for DSSE), with room to spare.
pub const INLINE_MAX: usize = 64 * 1024 + 1024;

enum Sink {
    /// Nothing on disk yet. With `inline`, a body that ends here is committed with its metadata;
    /// one that outgrows `INLINE_MAX` (or any body, without `inline`) becomes the file `path`.
    Buffer {
        buf: BytesMut,
        path: PathBuf,
        inline: bool,
    },
    File {
        file: std::io::BufWriter<std::fs::File>,
        path: PathBuf,
        /// Bytes written since the last background flush started.
        unflushed: u64,
        /// The background flush in progress, if any.
        flushing: Option<std::thread::JoinHandle<()>>,
    },
    Memory {
        buf: BytesMut,
        blobs: Arc<MemoryBlobs>,
    },
}

/// How much of a large body is written before its writeback to disk is started in the background.
/// Without it a 64 MiB body would reach the disk only at the final fsync, all at once, after the
/// last byte arrived; with it most is on disk by then and the fsync waits for the tail only.
const FLUSH_EVERY: u64 = 8 * 1024 * 1024;

/// Starts `fdatasync` of what has reached the file so far on a short-lived thread (a duplicate of
/// the descriptor), unless the previous one is still running. Errors are left to the final
/// `sync_all`, which fails the write if the disk does.
fn start_flush(file: &std::fs::File, flushing: &mut Option<std::thread::JoinHandle<()>>) {
    if flushing.as_ref().is_some_and(|f| !f.is_finished()) {
        return;
    }
    let Ok(dup) = file.try_clone() else {
        return;
    };
    *flushing = std::thread::Builder::new()
        .name("sealstore-flush".into())
        .spawn(move || {
            let _ = dup.sync_data();
        })
        .ok();
}

/// A finished blob: durable, not yet referenced.
#[derive(Debug)]
pub struct FinishedBlob {
    pub id: String,
    /// The bytes of a body small enough to be stored with its metadata (no file was written).
    pub inline: Option<Bytes>,
}

/// A blob being written. Dropped without `finish`, it removes what it wrote.
///
/// Its methods are synchronous and, once a file exists, block on the disk: large bodies are
/// written from a blocking thread (see `object_io::stream::Sealer`); a body still in its buffer costs
/// only a copy.
pub struct BlobWriter {
    id: String,
    sink: Option<Sink>,
    written: u64,
}

impl BlobWriter {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// Makes room for `n` more bytes in a body still in memory (no effect on a file).
    pub fn reserve(&mut self, n: usize) {
        match &mut self.sink {
            Some(Sink::Buffer { buf, .. }) | Some(Sink::Memory { buf, .. }) => {
                buf.reserve(n.min(INLINE_MAX))
            }
            _ => {}
        }
    }

    /// Whether `finish` cannot block: nothing touched the disk and nothing will (an inline or
    /// memory body).
    pub fn is_buffered(&self) -> bool {
        matches!(
            self.sink,
            Some(Sink::Buffer { inline: true, .. }) | Some(Sink::Memory { .. })
        )
    }

    pub fn write(&mut self, data: &[u8]) -> Result<(), StoreError> {
        match &mut self.sink {
            Some(Sink::Buffer { buf, inline, .. })
                if *inline && buf.len() + data.len() <= INLINE_MAX =>
            {
                buf.extend_from_slice(data)
            }
            Some(Sink::Buffer { .. }) => {
                self.spill()?;
                if let Some(Sink::File { file, .. }) = &mut self.sink {
                    crate::faults::io(crate::faults::Point::BlobWrite)?;
                    file.write_all(data)?;
                }
            }
            Some(Sink::File {
                file,
                unflushed,
                flushing,
                ..
            }) => {
                crate::faults::io(crate::faults::Point::BlobWrite)?;
                file.write_all(data)?;
                *unflushed += data.len() as u64;
                if *unflushed >= FLUSH_EVERY {
                    *unflushed = 0;
                    start_flush(file.get_ref(), flushing);
                }
            }
            Some(Sink::Memory { buf, .. }) => buf.extend_from_slice(data),
            None => return Err(StoreError::Closed),
        }
        self.written += data.len() as u64;
        Ok(())
    }

    /// Turns the buffer into a file holding what it held.
    fn spill(&mut self) -> Result<(), StoreError> {
        let Some(Sink::Buffer { buf, path, .. }) = self.sink.take() else {
            return Ok(());
        };
        if let Some(dir) = path.parent() {
            crate::fsmode::create_private_dir_all(dir)?;
        }
        crate::faults::io(crate::faults::Point::BlobCreate)?;
        let file = crate::fsmode::private_file_options()
            .write(true)
            .create_new(true)
            .open(&path)?;
        // From here on the drop guard removes the file.
        self.sink = Some(Sink::File {
            file: std::io::BufWriter::with_capacity(256 * 1024, file),
            path,
            unflushed: 0,
            flushing: None,
        });
        if let Some(Sink::File { file, .. }) = &mut self.sink {
            crate::faults::io(crate::faults::Point::BlobWrite)?;
            file.write_all(&buf)?;
        }
        Ok(())
    }

    /// Makes the blob durable (file and directory entry synced), or hands back the bytes of an
    /// inline body. The blob is still unreferenced: the caller commits metadata next, or deletes it.
    pub fn finish(mut self) -> Result<FinishedBlob, StoreError> {
        if matches!(&self.sink, Some(Sink::Buffer { inline: false, .. })) {
            self.spill()?;
        }
        let inline = match self.sink.take() {
            Some(Sink::Buffer { buf, .. }) => Some(buf.freeze()),
            Some(Sink::File {
                file,
                path,
                flushing,
                ..
            }) => {
                if let Some(f) = flushing {
                    let _ = f.join();
                }
                let done = (|| {
                    let file = file.into_inner().map_err(|e| e.into_error())?;
                    crate::faults::io(crate::faults::Point::BlobSync)?;
                    file.sync_all()?;
                    if let Some(dir) = path.parent() {
                        std::fs::File::open(dir)?.sync_all()?;
                    }
                    Ok::<(), std::io::Error>(())
                })();
                if let Err(e) = done {
                    let _ = std::fs::remove_file(&path);
                    return Err(e.into());
                }
                None
            }
            Some(Sink::Memory { buf, blobs }) => {
                let mut map = blobs.blobs.write().map_err(|_| StoreError::Closed)?;
                map.insert(self.id.clone(), buf.freeze());
                None
            }
            None => return Err(StoreError::Closed),
        };
        Ok(FinishedBlob {
            id: std::mem::take(&mut self.id),
            inline,
        })
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if let Some(Sink::File { path, .. }) = self.sink.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl BlobStore {
    pub async fn create(&self, inline: bool) -> Result<BlobWriter, StoreError> {
        let id = new_id();
        let sink = match self {
            BlobStore::Fs(fs) => Sink::Buffer {
                buf: BytesMut::new(),
                path: fs.path(&id),
                inline,
            },
            BlobStore::Memory(m) => Sink::Memory {
                buf: BytesMut::new(),
                blobs: m.clone(),
            },
        };
        Ok(BlobWriter {
            id,
            sink: Some(sink),
            written: 0,
        })
    }

    /// Opens blob `id`. The handle keeps reading the same bytes even if the blob is freed
    /// meanwhile (a concurrent overwrite), so one read sees one version.
    pub async fn open(&self, id: &str) -> Result<OpenBlob, StoreError> {
        match self {
            BlobStore::Fs(fs) => match tokio::fs::File::open(fs.path(id)).await {
                Ok(f) => Ok(OpenBlob::File(f.into_std().await)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(StoreError::BlobMissing(id.to_string()))
                }
                Err(e) => Err(e.into()),
            },
            BlobStore::Memory(m) => {
                let map = m.blobs.read().map_err(|_| StoreError::Closed)?;
                let blob = map
                    .get(id)
                    .ok_or_else(|| StoreError::BlobMissing(id.to_string()))?;
                Ok(OpenBlob::Memory(blob.clone()))
            }
        }
    }

    /// Removes blobs nothing refers to any more (their metadata is already committed without them).
    ///
    /// On disk this happens on a blocking thread after the caller's reply: unlinking a large file
    /// frees its extents and takes tens of milliseconds (57 ms for 64 MiB on ext4), which an
    /// overwriting PUT or a DELETE should not wait for. A crash before it runs leaves only an
    /// orphan, which start-up garbage collection removes.
    pub fn delete_later(&self, ids: Vec<String>) {
        match self {
            BlobStore::Fs(fs) => {
                let paths: Vec<PathBuf> = ids.iter().map(|id| fs.path(id)).collect();
                let unlink = move || {
                    for path in paths {
                        match std::fs::remove_file(&path) {
                            Ok(()) => {}
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                            // Harmless: start-up garbage collection removes it later.
                            Err(e) => {
                                tracing::warn!(error = %e, "could not remove a replaced blob")
                            }
                        }
                    }
                };
                match tokio::runtime::Handle::try_current() {
                    Ok(rt) => drop(rt.spawn_blocking(unlink)),
                    Err(_) => unlink(),
                }
            }
            BlobStore::Memory(m) => {
                if let Ok(mut map) = m.blobs.write() {
                    for id in &ids {
                        map.remove(id);
                    }
                }
            }
        }
    }
}
