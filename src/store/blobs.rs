//! Object bytes: one file per object version under `blobs/`, named by a random id, or a map in
//! memory. A blob is invisible until the metadata that names it commits; blobs no metadata names
//! (a crash between the two steps) are removed at start-up.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, BoxStream, StreamExt};
use rand::RngCore;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufWriter};

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
        std::fs::create_dir_all(&root)?;
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

enum Sink {
    File {
        file: BufWriter<tokio::fs::File>,
        path: PathBuf,
    },
    Memory {
        buf: BytesMut,
        blobs: Arc<MemoryBlobs>,
    },
}

/// A blob being written. Dropped without `finish`, it removes what it wrote.
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

    pub async fn write(&mut self, data: &[u8]) -> Result<(), StoreError> {
        match &mut self.sink {
            Some(Sink::File { file, .. }) => file.write_all(data).await?,
            Some(Sink::Memory { buf, .. }) => buf.extend_from_slice(data),
            None => return Err(StoreError::Closed),
        }
        self.written += data.len() as u64;
        Ok(())
    }

    /// Makes the blob durable (file and directory entry synced) and returns its id. The blob is
    /// still unreferenced: the caller commits metadata next, or deletes it.
    pub async fn finish(mut self) -> Result<String, StoreError> {
        match self.sink.take() {
            Some(Sink::File { mut file, path }) => {
                let done = async {
                    file.flush().await?;
                    file.get_mut().sync_all().await?;
                    if let Some(dir) = path.parent() {
                        tokio::fs::File::open(dir).await?.sync_all().await?;
                    }
                    Ok::<(), std::io::Error>(())
                }
                .await;
                if let Err(e) = done {
                    let _ = std::fs::remove_file(&path);
                    return Err(e.into());
                }
            }
            Some(Sink::Memory { buf, blobs }) => {
                let mut map = blobs.blobs.write().map_err(|_| StoreError::Closed)?;
                map.insert(self.id.clone(), buf.freeze());
            }
            None => return Err(StoreError::Closed),
        }
        Ok(std::mem::take(&mut self.id))
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
    pub async fn create(&self) -> Result<BlobWriter, StoreError> {
        let id = new_id();
        let sink = match self {
            BlobStore::Fs(fs) => {
                let path = fs.path(&id);
                if let Some(dir) = path.parent() {
                    tokio::fs::create_dir_all(dir).await?;
                }
                let file = tokio::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)
                    .await?;
                Sink::File {
                    file: BufWriter::with_capacity(256 * 1024, file),
                    path,
                }
            }
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

    pub async fn delete(&self, id: &str) -> Result<(), StoreError> {
        match self {
            BlobStore::Fs(fs) => match tokio::fs::remove_file(fs.path(id)).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e.into()),
            },
            BlobStore::Memory(m) => {
                m.blobs.write().map_err(|_| StoreError::Closed)?.remove(id);
                Ok(())
            }
        }
    }
}
