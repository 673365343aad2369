//! Unpacking a `.tar.gz` or `.tar` archive while it arrives: the upload's chunks go, as they
//! are received, to a blocking task that inflates and unpacks them into a scratch directory
//! (digesting each file as it is written), so receiving, storing the archive and unpacking it
//! overlap instead of following one another. A bounded channel keeps memory flat and slows the
//! upload down to the unpacking's pace. The unpacked/packed ratio is measured against the bytes
//! received so far, stricter than the whole archive's: an archive refused for it is unpacked
//! again from the stored archive, measured against its whole size (see [`Unpacked::outcome`]).

use std::{
    io::Read,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use bytes::{Buf, Bytes};
use tokio::{sync::mpsc, task::JoinHandle};

use super::archive::{self, ArchiveFormat, PackedSize, UnpackError, UnpackLimits, UnpackedFile};

/// Chunks waiting for the unpacking task (of at most 512 KiB each from the gateway).
const CHUNKS_IN_FLIGHT: usize = 4;

/// A blocking reader of the chunks a channel brings; the end of the channel is the end of the
/// archive.
struct ChunkReader {
    chunks: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for ChunkReader {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        while !self.current.has_remaining() {
            match self.chunks.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let length = buffer.len().min(self.current.remaining());
        self.current.copy_to_slice(&mut buffer[..length]);
        Ok(length)
    }
}

/// The result of an unpacking: its scratch directory (removed when dropped) and the files or the
/// refusal.
#[derive(Debug)]
pub struct Unpacked {
    pub scratch: tempfile::TempDir,
    pub outcome: Result<Vec<UnpackedFile>, UnpackError>,
    /// The archive's format, as its name or first bytes told.
    pub format: ArchiveFormat,
    /// The ratio was measured against the bytes received so far, not the whole archive.
    measured_so_far: bool,
}

impl Unpacked {
    /// Whether the refusal may be only the stricter ratio of an archive unpacked as it arrived,
    /// so that the stored archive must be unpacked again against its whole size.
    pub fn needs_whole_size(&self) -> bool {
        self.measured_so_far && matches!(self.outcome, Err(UnpackError::TooCompressed { .. }))
    }
}

/// An unpacking in progress, fed chunk by chunk.
pub struct StreamedUnpack {
    sender: Option<mpsc::Sender<Bytes>>,
    received: Arc<AtomicU64>,
    measured_so_far: bool,
    format: ArchiveFormat,
    scratch: tempfile::TempDir,
    task: JoinHandle<Result<Vec<UnpackedFile>, UnpackError>>,
}

impl StreamedUnpack {
    /// Starts unpacking an archive of `format` into a new scratch directory under `spool_dir`;
    /// the ratio is measured against `packed` when the whole size is known, else against the
    /// bytes fed so far.
    pub fn start(
        spool_dir: &Path,
        format: ArchiveFormat,
        limits: UnpackLimits,
        packed: Option<u64>,
    ) -> std::io::Result<StreamedUnpack> {
        let scratch = tempfile::tempdir_in(spool_dir)?;
        let (sender, chunks) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let received = Arc::new(AtomicU64::new(0));
        let packed_size = match packed {
            Some(bytes) => PackedSize::Whole(bytes),
            None => PackedSize::SoFar(received.clone()),
        };
        let destination = scratch.path().to_owned();
        let task = tokio::task::spawn_blocking(move || {
            let reader = ChunkReader {
                chunks,
                current: Bytes::new(),
            };
            archive::unpack_reader(reader, format, &destination, limits, packed_size)
        });
        Ok(StreamedUnpack {
            sender: Some(sender),
            received,
            measured_so_far: packed.is_none(),
            format,
            scratch,
            task,
        })
    }

    /// Hands the next chunk to the unpacking, waiting while it is behind. Once the unpacking
    /// has ended (a refusal, or the archive's end marker) the rest is not needed and dropped.
    pub async fn feed(&mut self, chunk: Bytes) {
        self.received
            .fetch_add(chunk.len() as u64, Ordering::AcqRel);
        if let Some(sender) = &self.sender
            && sender.send(chunk).await.is_err()
        {
            self.sender = None;
        }
    }

    /// Ends the input and waits for the unpacking's result.
    pub async fn finish(mut self) -> Unpacked {
        self.sender = None;
        let outcome = match self.task.await {
            Ok(outcome) => outcome,
            Err(error) => Err(UnpackError::Local(format!(
                "the unpack task stopped: {error}"
            ))),
        };
        Unpacked {
            scratch: self.scratch,
            outcome,
            format: self.format,
            measured_so_far: self.measured_so_far,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const LIMITS: UnpackLimits = UnpackLimits {
        max_unpacked_bytes: 64 << 20,
        max_entries: 100,
        max_unpack_ratio: 200,
    };

    /// A `.tar.gz` of `files` (path, content).
    fn tar_gz(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::default(),
        ));
        for (path, content) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            builder
                .append_data(&mut header, path, content.as_slice())
                .expect("append");
        }
        builder.into_inner().expect("tar").finish().expect("gzip")
    }

    /// Bytes that do not compress (a xorshift sequence).
    fn noise(length: usize) -> Vec<u8> {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        (0..length)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    }

    /// Feeds `archive` in chunks of `chunk` bytes, as an upload arrives.
    async fn streamed(archive: &[u8], chunk: usize, packed: Option<u64>, spool: &Path) -> Unpacked {
        let mut unpack =
            StreamedUnpack::start(spool, ArchiveFormat::TarGz, LIMITS, packed).expect("start");
        for part in archive.chunks(chunk) {
            unpack.feed(Bytes::copy_from_slice(part)).await;
        }
        unpack.finish().await
    }

    #[tokio::test]
    async fn an_archive_unpacked_as_it_arrives_gives_the_files_of_the_whole_file() {
        let spool = tempfile::tempdir().expect("spool");
        let archive = tar_gz(&[
            ("app/run.sh", b"#!/bin/sh\necho hi\n".to_vec()),
            ("app/lib/data.bin", noise(1 << 20)),
            ("app/empty", Vec::new()),
        ]);
        let whole = spool.path().join("whole.tar.gz");
        std::fs::File::create(&whole)
            .and_then(|mut file| file.write_all(&archive))
            .expect("write archive");
        let destination = tempfile::tempdir().expect("destination");
        let from_file = archive::unpack(&whole, ArchiveFormat::TarGz, destination.path(), LIMITS)
            .expect("unpack the file");

        for chunk in [7, 4096, 512 * 1024] {
            let unpacked = streamed(&archive, chunk, None, spool.path()).await;
            let files = unpacked.outcome.as_ref().expect("unpacked as it arrived");
            assert_eq!(files.len(), 3, "chunks of {chunk}");
            for (arrived, read) in files.iter().zip(&from_file) {
                assert_eq!(arrived.relative_path, read.relative_path);
                assert_eq!(arrived.digest, read.digest, "{}", read.relative_path);
                let content = std::fs::read(&arrived.local_path).expect("unpacked file");
                assert_eq!(content, std::fs::read(&read.local_path).expect("file"));
                assert!(arrived.local_path.starts_with(unpacked.scratch.path()));
            }
            assert!(!unpacked.needs_whole_size());
        }
        let md5 = |bytes: &[u8]| {
            use md5::Digest;
            hex::encode(md5::Md5::digest(bytes))
        };
        assert_eq!(from_file[0].digest.md5, md5(b"#!/bin/sh\necho hi\n"));
        assert_eq!(from_file[2].digest.size, 0);
    }

    #[tokio::test]
    async fn a_start_far_more_compressed_than_the_whole_is_measured_again_against_the_whole() {
        let spool = tempfile::tempdir().expect("spool");
        // 16 MiB of zeros (about 16 KiB packed) before 256 KiB of noise: about 60:1 in all, far
        // over 200:1 while the zeros arrive (in chunks of 1 KiB, at most a few ahead).
        let archive = tar_gz(&[
            ("zeros.img", vec![0; 16 << 20]),
            ("noise.bin", noise(256 << 10)),
        ]);
        let unpacked = streamed(&archive, 1024, None, spool.path()).await;
        assert!(
            matches!(unpacked.outcome, Err(UnpackError::TooCompressed { .. })),
            "{:?}",
            unpacked.outcome
        );
        assert!(unpacked.needs_whole_size());
        let whole = streamed(
            &archive,
            64 * 1024,
            Some(archive.len() as u64),
            spool.path(),
        )
        .await;
        let files = whole
            .outcome
            .as_ref()
            .expect("within the ratio of the whole");
        assert_eq!(files[0].size, 16 << 20);
        assert!(!whole.needs_whole_size());

        // A bomb is refused against its whole size too, and for good.
        let bomb = tar_gz(&[("zeros.img", vec![0; 16 << 20])]);
        let refused = streamed(&bomb, 64 * 1024, Some(bomb.len() as u64), spool.path()).await;
        assert!(matches!(
            refused.outcome,
            Err(UnpackError::TooCompressed { .. })
        ));
        assert!(!refused.needs_whole_size());
    }

    #[tokio::test]
    async fn an_unpacking_that_ended_early_lets_the_upload_go_on() {
        let spool = tempfile::tempdir().expect("spool");
        // A refused first entry, then 2 MiB more that nobody reads.
        let long_name = "a".repeat(300);
        let archive = tar_gz(&[
            (long_name.as_str(), b"x".to_vec()),
            ("rest", noise(2 << 20)),
        ]);
        let unpacked = streamed(&archive, 16 * 1024, None, spool.path()).await;
        assert!(
            matches!(&unpacked.outcome, Err(UnpackError::Entry { reason, .. }) if reason.contains("path component of 300 bytes")),
            "{:?}",
            unpacked.outcome
        );
        let scratch = unpacked.scratch.path().to_owned();
        drop(unpacked);
        assert!(!scratch.exists());
    }
}
